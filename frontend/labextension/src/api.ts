/**
 * Talking to the server extension: the push endpoint (a websocket that
 * reconnects by itself) and the REST routes. No dependency logic here: the
 * page shows what the server decides.
 */

import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { IGraphMessage, IPreview } from './types';

const settings = (): ServerConnection.ISettings =>
  ServerConnection.makeSettings();

/** POST a JSON body to /api/cascade/<route>; the parsed answer. */
export async function post(route: string, body: object): Promise<any> {
  const s = settings();
  const response = await ServerConnection.makeRequest(
    URLExt.join(s.baseUrl, 'api/cascade', route),
    { method: 'POST', body: JSON.stringify(body) },
    s
  );
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    throw new Error(data.message || `${route}: HTTP ${response.status}`);
  }
  return data;
}

/** The cells a run of ``cell`` would run (and, from newer servers, its upstream). */
export async function preview(
  path: string,
  cell: string
): Promise<IPreview | null> {
  const s = settings();
  const query = URLExt.objectToQueryString({ path, cell });
  const response = await ServerConnection.makeRequest(
    URLExt.join(s.baseUrl, 'api/cascade/preview') + query,
    {},
    s
  );
  return response.ok ? ((await response.json()) as IPreview) : null;
}

/** The URL of the graph page for a notebook. */
export function graphPageUrl(path: string): string {
  const s = settings();
  return (
    URLExt.join(s.baseUrl, 'cascade/graph') +
    URLExt.objectToQueryString({ path })
  );
}

/** One notebook's push endpoint; reconnects after a drop, follows renames. */
export class EventStream {
  constructor(private _path: string) {
    this._connect();
  }

  get received(): ISignal<this, IGraphMessage> {
    return this._received;
  }

  get last(): IGraphMessage | null {
    return this._last;
  }

  set path(path: string) {
    if (path !== this._path) {
      this._path = path;
      this._last = null;
      this._socket?.close();
    }
  }

  get path(): string {
    return this._path;
  }

  dispose(): void {
    this._disposed = true;
    window.clearTimeout(this._retry);
    this._socket?.close();
    Signal.clearData(this);
  }

  private _connect(): void {
    const s = settings();
    const query: { [key: string]: string } = { path: this._path };
    if (s.token && s.appendToken) {
      query.token = s.token;
    }
    const url =
      URLExt.join(s.wsUrl, 'api/cascade/events') +
      URLExt.objectToQueryString(query);
    const socket = new WebSocket(url);
    this._socket = socket;
    socket.onopen = () => {
      this._delay = 250;
    };
    socket.onmessage = event => {
      const message = JSON.parse(event.data) as IGraphMessage;
      if (message.type === 'graph' && socket === this._socket) {
        this._last = message;
        this._received.emit(message);
      }
    };
    socket.onclose = () => {
      if (this._disposed) {
        return;
      }
      this._retry = window.setTimeout(() => this._connect(), this._delay);
      this._delay = Math.min(this._delay * 2, 5000);
    };
  }

  private _socket: WebSocket | null = null;
  private _last: IGraphMessage | null = null;
  private _delay = 250;
  private _retry = 0;
  private _disposed = false;
  private _received = new Signal<this, IGraphMessage>(this);
}
