// Electron's main process can ask whether the machine is online (net.isOnline) but sends no
// event when that changes, so we look every few seconds and report changes only.
export function watchConnectivity(
  isOnline: () => boolean,
  onChange: (online: boolean) => void,
  intervalMs = 5_000,
): () => void {
  let last = isOnline();
  const timer = setInterval(() => {
    const now = isOnline();
    if (now === last) return;
    last = now;
    onChange(now);
  }, intervalMs);
  // Looking must not keep the app alive on its own.
  timer.unref?.();
  return () => clearInterval(timer);
}
