import cliProgress from 'cli-progress';

/** A progress bar on a terminal, plain lines (every `every` steps) otherwise. */
export interface Progress {
  /** `unit`: what is counted, plural (default 'steps'). */
  start(total: number, value: number, label: string, unit?: string): void;
  update(value: number, fields: Record<string, string>): void;
  log(line: string): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, every = 50): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: '{label} [{bar}] {value}/{total} {unit} | {eta_formatted} left | {info}', hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    let running = false;
    return {
      start(total, value, label, unit = 'steps') {
        bar.start(total, value, { label, unit, info: '' });
        running = true;
      },
      update(value, fields) {
        bar.update(value, { info: Object.entries(fields).map(([k, v]) => `${k} ${v}`).join(' | ') });
      },
      log(line) {
        if (running) {
          stream.write('\r\x1b[K');
          stream.write(line + '\n');
          bar.render();
        } else stream.write(line + '\n');
      },
      stop() {
        if (running) bar.stop();
        running = false;
      },
    };
  }
  let total = 0;
  let lastLogged = -1;
  let unit = 'steps';
  return {
    start(t, value, label, u = 'steps') {
      total = t;
      lastLogged = value;
      unit = u;
      stream.write(`${label}: ${total} ${unit}${value > 0 ? `, resuming at ${value}` : ''}\n`);
    },
    update(value, fields) {
      if (value - lastLogged >= every || value === total) {
        lastLogged = value;
        stream.write(`${unit.replace(/s$/, '')} ${value}/${total} ${Object.entries(fields).map(([k, v]) => `${k} ${v}`).join(' ')}\n`);
      }
    },
    log(line) {
      stream.write(line + '\n');
    },
    stop() {},
  };
}
