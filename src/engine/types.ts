/** State of an extension that is not policy: whether it exists, its lock. */
export interface ExtensionState {
  known: boolean;
  locked: boolean;
  lockReason: string | null;
}
