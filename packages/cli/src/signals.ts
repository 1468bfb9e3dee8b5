/** The shell's convention for a process stopped by a signal: 128 + its number (130 for SIGINT, 143 for SIGTERM). */
export function signalExit(signal: NodeJS.Signals): number {
  return signal === 'SIGTERM' ? 143 : 130;
}

/**
 * Ctrl-C and SIGTERM (how Slurm and Kubernetes stop jobs) ask for a clean stop: the first one calls `onFirst` (which
 * says what happens now) and aborts `signal`; a second one quits at once with the conventional status.
 */
export function onStopSignals(onFirst: (signal: NodeJS.Signals) => void): {
  signal: AbortSignal;
  received: () => NodeJS.Signals | undefined;
  dispose: () => void;
} {
  const controller = new AbortController();
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (received !== undefined) process.exit(signalExit(signal));
    received = signal;
    onFirst(signal);
    controller.abort();
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    received: () => received,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}
