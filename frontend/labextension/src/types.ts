/**
 * What the server sends (see the README's REST table): the graph body of
 * GET /api/cascade/graph and the progress of a cascade, pushed by
 * /api/cascade/events.
 */

export interface ICellState {
  id: string;
  index: number;
  execution_count: number | null;
  /** fresh, stale, waiting, dirty, error, never_run, queued, running */
  state: string;
  /** why the cell is in that state, when the server says (e.g. "reads x, redefined by [7]") */
  reason?: string | null;
}

export interface IGraph {
  path: string;
  kernel_id: string;
  mode: string;
  direction: string;
  busy: boolean;
  available: boolean;
  reason: string | null;
  cells: ICellState[];
  edges: { source: string; target: string; symbols: string[] }[];
}

export interface IProgress {
  trigger: string | null;
  running: string | null;
  queued: string[];
  done: number;
  total: number;
}

export interface IGraphMessage {
  type: 'graph';
  graph: IGraph | null;
  progress: IProgress;
  message?: string;
}

export interface IPreview {
  path: string;
  cell: string;
  cells: string[];
  /** fresh cells the cell depends on (newer servers) */
  upstream?: string[];
}

export const STATES = [
  'fresh',
  'stale',
  'waiting',
  'dirty',
  'error',
  'never_run',
  'queued',
  'running'
];

/** Hover text when the server gives no reason. */
export const DEFAULT_REASONS: { [state: string]: string } = {
  fresh: 'up to date',
  stale: 'stale: an input changed since this cell ran',
  waiting: 'waiting: reads the output of a cell that is out of date',
  dirty: 'dirty: edited since it ran',
  error: 'error: the last run raised',
  never_run: 'never run',
  queued: 'queued: the cascade will run this cell',
  running: 'running in the cascade'
};
