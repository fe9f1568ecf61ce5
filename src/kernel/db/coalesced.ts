/**
 * `send` made safe to call in bursts: at most one call every `intervalMs`, and the calls made in
 * between become a single call at its end (a wake-up needs sending once more, not once per caller).
 */
export function coalesced(send: () => Promise<unknown>, intervalMs: number): () => void {
  let busy = false;
  let again = false;
  const run = () => {
    busy = true;
    again = false;
    void send()
      .catch(() => {}) // a lost wake-up is caught by the listeners' safety poll
      .then(() => setTimeout(() => (again ? run() : (busy = false)), intervalMs).unref());
  };
  return () => {
    if (busy) again = true;
    else run();
  };
}

/** `coalesced` for each key of its own (a notification channel), made at the key's first call. */
export function coalescedPerKey(send: (key: string) => Promise<unknown>, intervalMs: number): (key: string) => void {
  const senders = new Map<string, () => void>();
  return (key) => {
    let sender = senders.get(key);
    if (!sender) senders.set(key, (sender = coalesced(() => send(key), intervalMs)));
    sender();
  };
}
