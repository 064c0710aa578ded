/**
 * Training progress display shared by the commands: on a terminal one line that updates in place (epoch, bar,
 * loss, steps per second); otherwise one line per epoch.
 * @module
 */
import { performance } from 'node:perf_hooks';
import type { EpochInfo, StepInfo } from '../index.js';

/** Writes training progress to a stream. */
export class Progress {
  private readonly t0 = performance.now();
  private readonly tty: boolean;
  private readonly width = 24;
  constructor(private readonly epochs: number, private readonly stepsPerEpoch: number,
              private readonly out: NodeJS.WriteStream = process.stdout, tty?: boolean) {
    this.tty = tty ?? out.isTTY === true;
  }

  private rate(globalSteps: number): number {
    return globalSteps / Math.max(1e-9, (performance.now() - this.t0) / 1000);
  }

  /** After every step: redraws the line on a terminal. */
  step(s: StepInfo): void {
    if (!this.tty) return;
    const done = (s.step + 1) / this.stepsPerEpoch;
    const total = (s.globalStep + 1) / (this.epochs * this.stepsPerEpoch);
    const bar = '#'.repeat(Math.round(total * this.width)).padEnd(this.width, '.');
    this.out.write(`\r  epoch ${s.epoch + 1}/${this.epochs} [${bar}] ${(100 * done).toFixed(0).padStart(3)}% ` +
      `loss ${s.loss.toFixed(5)}  ${this.rate(s.globalStep + 1).toFixed(0)} steps/s\x1b[K`);
  }

  /** After every epoch: a line per epoch (kept on a terminal only for the last epoch and every 10th). */
  epoch(e: EpochInfo, globalSteps: number): void {
    const line = `  epoch ${String(e.epoch + 1).padStart(String(this.epochs).length)}/${this.epochs}: loss ${e.loss.toFixed(6)}` +
      (e.valLoss !== undefined ? `, validation loss ${e.valLoss.toFixed(6)}` : '') +
      `, ${this.rate(globalSteps).toFixed(0)} steps/s (${e.seconds.toFixed(2)} s)`;
    if (!this.tty) {
      this.out.write(`${line}\n`);
      return;
    }
    const keep = e.epoch === 0 || e.epoch + 1 === this.epochs || (e.epoch + 1) % 10 === 0;
    this.out.write(keep ? `\r${line}\x1b[K\n` : '');
  }

  /** Seconds since the start. */
  seconds(): number {
    return (performance.now() - this.t0) / 1000;
  }
}
