/**
 * The time by which a session must be answered, as handed to a handler. Most handlers only ask
 * once whether it has passed; an AbortController per session cost about as much CPU as the
 * rest of the session's set-up together, so the signal is only made for a handler that asks for it.
 */
export class AnswerDeadline {
  private controller?: AbortController;
  private timer?: NodeJS.Timeout;

  /** `at` is a Date.now() time; `reason` makes the abort reason when the signal is made. */
  constructor(
    readonly at: number,
    private readonly reason: () => Error,
  ) {}

  get passed(): boolean {
    return Date.now() >= this.at;
  }

  /** Aborts at the deadline with `reason()`; never after dispose(). */
  get signal(): AbortSignal {
    if (!this.controller) {
      const controller = new AbortController();
      this.controller = controller;
      const ms = this.at - Date.now();
      if (ms <= 0) controller.abort(this.reason());
      else this.timer = setTimeout(() => controller.abort(this.reason()), ms);
    }
    return this.controller.signal;
  }

  /** The session is over: a signal that was asked for no longer aborts. */
  dispose(): void {
    clearTimeout(this.timer);
  }
}
