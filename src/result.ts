/**
 * The outcome of a step as a value: the thing it made, or why not. The failure side carries what its caller needs
 * (a reason code, the problems found, an error), always value-free.
 */
export type Result<T, Failure extends object> = { ok: true; value: T } | ({ ok: false } & Failure);
