/** Draws a one-line progress bar on a TTY, or prints a line at each tenth on other streams. */
export function drawProgress(label: string): { update: (fraction: number) => void; done: () => void } {
  const stream = process.stderr;
  let lastTenth = -1;
  return {
    update: (fraction) => {
      const clamped = Math.min(1, Math.max(0, fraction));
      if (stream.isTTY) {
        const width = 30;
        const filled = Math.round(clamped * width);
        stream.write(`\r${label} [${"#".repeat(filled)}${" ".repeat(width - filled)}] ${(clamped * 100).toFixed(0)}%`);
      } else {
        const tenth = Math.floor(clamped * 10);
        if (tenth !== lastTenth) {
          lastTenth = tenth;
          stream.write(`${label} ${tenth * 10}%\n`);
        }
      }
    },
    done: () => {
      if (stream.isTTY) stream.write("\n");
    },
  };
}
