import cliProgress from 'cli-progress';

/** A progress bar on a terminal, plain lines (every `every` steps) otherwise. */
export interface Progress {
  start(total: number, value: number, label: string): void;
  update(value: number, fields: Record<string, string>): void;
  log(line: string): void;
  stop(): void;
}

export function createProgress(stream: NodeJS.WriteStream = process.stderr, every = 50): Progress {
  if (stream.isTTY) {
    const bar = new cliProgress.SingleBar(
      { stream, format: '{label} [{bar}] {value}/{total} steps | {eta_formatted} left | {info}', hideCursor: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    );
    let running = false;
    return {
      start(total, value, label) {
        bar.start(total, value, { label, info: '' });
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
  return {
    start(t, value, label) {
      total = t;
      lastLogged = value;
      stream.write(`${label}: ${total} steps${value > 0 ? `, resuming at step ${value}` : ''}\n`);
    },
    update(value, fields) {
      if (value - lastLogged >= every || value === total) {
        lastLogged = value;
        stream.write(`step ${value}/${total} ${Object.entries(fields).map(([k, v]) => `${k} ${v}`).join(' ')}\n`);
      }
    },
    log(line) {
      stream.write(line + '\n');
    },
    stop() {},
  };
}
