"""The websocket codec: both wire formats, and garbage that must never raise."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from jupyter_client.session import Session
from jupyter_server.services.kernels.connection.base import (
    deserialize_msg_from_ws_v1,
    serialize_binary_message,
    serialize_msg_to_ws_v1,
)

from server_ext import codec

SESSION = Session(key=b"")


def _pack(value: object) -> bytes:
    return json.dumps(value, default=str).encode()


def execute_msg(code: str = "x = 1", metadata: dict | None = None) -> dict:
    content = {"code": code, "silent": False}
    return SESSION.msg("execute_request", content, metadata=metadata or {})


def v1_frame(msg: dict, channel: str = "shell") -> bytes:
    return serialize_msg_to_ws_v1(msg, channel, _pack)


def legacy_frame(msg: dict, channel: str = "shell") -> str:
    return json.dumps({**msg, "channel": channel}, default=str)


def test_reads_v1_execute_request() -> None:
    msg = execute_msg("print(1)", {"cellId": "abc"})
    request = codec.Incoming(v1_frame(msg), codec.V1_PROTOCOL).execute_request()
    assert request is not None
    assert (request.msg_id, request.code, request.metadata) == (
        msg["header"]["msg_id"],
        "print(1)",
        {"cellId": "abc"},
    )


def test_reads_legacy_text_and_binary_execute_request() -> None:
    msg = execute_msg("y = 2")
    assert codec.Incoming(legacy_frame(msg), None).execute_request().code == "y = 2"  # type: ignore[union-attr]
    binary = serialize_binary_message({**json.loads(legacy_frame(msg)), "buffers": [b"x"]})
    assert codec.Incoming(binary, None).execute_request().code == "y = 2"  # type: ignore[union-attr]


def test_other_messages_and_channels_are_not_execute_requests() -> None:
    info = SESSION.msg("kernel_info_request", {})
    assert codec.Incoming(v1_frame(info), codec.V1_PROTOCOL).execute_request() is None
    assert (
        codec.Incoming(v1_frame(execute_msg(), "control"), codec.V1_PROTOCOL).execute_request()
        is None
    )
    assert codec.Incoming(legacy_frame(execute_msg(), "stdin"), None).execute_request() is None


def test_with_changes_adds_cell_id_in_both_formats() -> None:
    msg = execute_msg("z = 3")
    for frame, protocol in ((v1_frame(msg), codec.V1_PROTOCOL), (legacy_frame(msg), None)):
        rewritten = codec.Incoming(frame, protocol).with_changes({"cellId": "c1"})
        request = codec.Incoming(rewritten, protocol).execute_request()
        assert request is not None and request.metadata == {"cellId": "c1"}
        assert request.code == "z = 3"


def test_rewritten_v1_frames_read_back_the_same_in_jupyter_server() -> None:
    """Our v1 splitter and joiner agree with jupyter_server's, part for part."""
    msg = execute_msg("print('é')", {"cellId": "c7"})
    frame = v1_frame(msg, "shell")
    channel, parts = deserialize_msg_from_ws_v1(frame)
    assert codec._v1_parts(frame) == (channel, parts)
    rewritten = codec.Incoming(frame, codec.V1_PROTOCOL).with_changes({"cascade_report": {}})
    channel2, parts2 = deserialize_msg_from_ws_v1(rewritten)
    assert channel2 == "shell" and parts2[:2] == parts[:2] and parts2[3] == parts[3]
    assert json.loads(parts2[2]) == {"cellId": "c7", "cascade_report": {}}


def test_with_changes_adds_user_expressions_and_keeps_the_browsers_own() -> None:
    msg = execute_msg("z = 3")
    msg["content"]["user_expressions"] = {"mine": "1 + 1"}
    for frame, protocol in ((v1_frame(msg), codec.V1_PROTOCOL), (legacy_frame(msg), None)):
        rewritten = codec.Incoming(frame, protocol).with_changes(user_expressions={"theirs": "2"})
        content = (
            json.loads(codec._v1_parts(rewritten)[1][3])  # type: ignore[arg-type,index]
            if protocol
            else json.loads(rewritten)["content"]
        )
        assert content["user_expressions"] == {"mine": "1 + 1", "theirs": "2"}
        assert content["code"] == "z = 3"


def test_replies_carry_the_report_that_rode_on_the_request() -> None:
    parent = execute_msg()

    def parsed_reply(content: dict[str, Any], metadata: dict[str, Any]) -> codec.Reply:
        reply = SESSION.msg("execute_reply", content, parent=parent, metadata=metadata)
        parsed = codec.read_json_reply(json.dumps({**reply, "channel": "shell"}, default=str))
        assert parsed is not None and parsed.parent_msg_id == parent["header"]["msg_id"]
        return parsed

    expression = {"status": "ok", "data": {"text/plain": "'{}'"}, "metadata": {}}
    by_expression = parsed_reply(
        {"status": "ok", "user_expressions": {codec.REPORT_KEY: expression}}, {}
    )
    assert by_expression.report == codec.CarriedReport(None, expression)
    payload = {"version": 2, "clock": 3}
    by_metadata = parsed_reply({"status": "ok"}, {codec.REPORT_METADATA_KEY: payload})
    assert by_metadata.report == codec.CarriedReport(payload, None)
    assert parsed_reply({"status": "ok"}, {"status": "ok"}).report is None


@given(st.binary(max_size=300))
def test_random_bytes_never_raise(frame: bytes) -> None:
    codec.is_v1_execute_request(frame)
    for protocol in (codec.V1_PROTOCOL, None):
        codec.Incoming(frame, protocol).execute_request()
        assert codec.Incoming(frame, protocol).with_changes({"cellId": "x"}) is not None


@given(st.text(max_size=300))
def test_random_text_never_raises(frame: str) -> None:
    for protocol in (codec.V1_PROTOCOL, None):
        codec.Incoming(frame, protocol).execute_request()
        codec.Incoming(frame, protocol).with_changes({"cellId": "x"})


@given(st.integers(min_value=0, max_value=2**64 - 1), st.binary(max_size=64))
def test_v1_frames_with_lying_offsets_never_raise(count: int, rest: bytes) -> None:
    frame = count.to_bytes(8, "little") + rest
    assert codec.Incoming(frame, codec.V1_PROTOCOL).execute_request() is None
    assert not codec.is_v1_execute_request(frame)


def test_execute_requests_are_told_from_the_frame_without_decoding_it() -> None:
    request = v1_frame(execute_msg("print('msg_type')", {"cellId": "a"}))
    assert codec.is_v1_execute_request(request)
    for frame in (
        v1_frame(execute_msg(), channel="control"),
        v1_frame(SESSION.msg("comm_msg", {"data": {"method": "update"}})),
        # the type's name in the code or the parent header is not the header's type
        v1_frame(SESSION.msg("comm_msg", {"code": '"msg_type": "execute_request"'})),
        v1_frame(SESSION.msg("kernel_info_request", {}, parent=execute_msg())),
        request[:40],
        "a text frame",
    ):
        assert not codec.is_v1_execute_request(frame)
    # whatever it tells, jupyter_server splits the frame the same way
    channel, parts = deserialize_msg_from_ws_v1(request)
    assert channel == "shell" and json.loads(parts[0])["msg_type"] == "execute_request"


@given(
    st.recursive(
        st.none() | st.booleans() | st.integers() | st.text(max_size=10),
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
        max_leaves=10,
    )
)
def test_json_of_any_shape_never_raises(value: object) -> None:
    frame = json.dumps(value)
    codec.Incoming(frame, None).execute_request()
    codec.Incoming(frame, None).with_changes({"cellId": "x"})


def test_well_formed_frames_in_both_formats() -> None:
    msg = execute_msg()
    assert codec.Incoming(v1_frame(msg), codec.V1_PROTOCOL).well_formed
    assert codec.Incoming(legacy_frame(msg), None).well_formed
    assert not codec.Incoming(b"\x03\x05J\xba", None).well_formed, "claims 50 million buffers"
    assert not codec.Incoming(v1_frame(msg)[:20], codec.V1_PROTOCOL).well_formed
    assert not codec.Incoming("{not json", None).well_formed
    assert not codec.Incoming("text on a binary protocol", codec.V1_PROTOCOL).well_formed


def test_agent_reports_on_iopub_are_told_by_their_topic_alone() -> None:
    from kernel_agent.core.protocol import REPORT_MSG_TYPE, REPORT_TOPIC, follows_marker

    report = SESSION.serialize(SESSION.msg(REPORT_MSG_TYPE, {"cells": []}), ident=REPORT_TOPIC)
    status = SESSION.serialize(SESSION.msg("status", {}), ident=b"kernel.k.status")
    assert codec.is_agent_report(report)
    assert not codec.is_agent_report(status)
    assert not codec.is_agent_report([])
    follows = codec.CarriedReport.of({}, {"cascade_report": follows_marker()})
    carried = codec.CarriedReport.of({}, {"cascade_report": {"version": 4, "cells": []}})
    assert follows is not None and follows.follows
    assert carried is not None and not carried.follows
