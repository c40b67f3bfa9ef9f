/**
 * A latency histogram with log-spaced buckets (1 % wide), cheap to record into at tens of
 * thousands of samples per second and small to ship over IPC: load workers record, the
 * orchestrator merges and reads percentiles. Values are microseconds; percentiles are
 * accurate to about 1 %.
 */
export class LatencyHistogram {
  private readonly counts = new Uint32Array(BUCKETS);
  /** Samples recorded. */
  count = 0;
  /** Sum of the samples, µs (for the mean). */
  sum = 0;
  /** Smallest sample, µs. */
  min = Number.POSITIVE_INFINITY;
  /** Largest sample, µs. */
  max = 0;

  /** Records one latency in microseconds (negative clock noise counts as 1 µs). */
  record(us: number): void {
    const v = us < 1 ? 1 : us;
    const i = Math.min(BUCKETS - 1, Math.floor(Math.log(v) / LOG_BASE));
    this.counts[i]++;
    this.count++;
    this.sum += v;
    if (v < this.min) this.min = v;
    if (v > this.max) this.max = v;
  }

  /** Adds another histogram's samples to this one. */
  merge(other: LatencyHistogram | SerializedHistogram): this {
    const o = other instanceof LatencyHistogram ? other.toJSON() : other;
    for (const [i, c] of o.buckets) this.counts[i] += c;
    this.count += o.count;
    this.sum += o.sum;
    if (o.count > 0) {
      this.min = Math.min(this.min, o.min);
      this.max = Math.max(this.max, o.max);
    }
    return this;
  }

  /** The `p`-th percentile (0–100) in milliseconds, or `undefined` without samples. */
  percentileMs(p: number): number | undefined {
    if (this.count === 0) return undefined;
    const rank = Math.max(1, Math.ceil((p / 100) * this.count));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i];
      if (seen >= rank) {
        // The bucket's geometric middle, clamped to what was really seen.
        const us = Math.exp((i + 0.5) * LOG_BASE);
        return Math.min(this.max, Math.max(this.min, us)) / 1000;
      }
    }
    return this.max / 1000;
  }

  /** Mean in milliseconds, or `undefined` without samples. */
  meanMs(): number | undefined {
    return this.count === 0 ? undefined : this.sum / this.count / 1000;
  }

  /** Sparse form for IPC and the results file. */
  toJSON(): SerializedHistogram {
    const buckets: [number, number][] = [];
    for (let i = 0; i < BUCKETS; i++) if (this.counts[i] > 0) buckets.push([i, this.counts[i]]);
    return { buckets, count: this.count, sum: this.sum, min: this.count ? this.min : 0, max: this.max };
  }

  /** Rebuilds a histogram from {@link toJSON}'s output. */
  static from(json: SerializedHistogram): LatencyHistogram {
    return new LatencyHistogram().merge(json);
  }
}

/** {@link LatencyHistogram} as plain data. */
export interface SerializedHistogram {
  /** `[bucketIndex, count]` pairs, non-empty buckets only. */
  buckets: [number, number][];
  count: number;
  sum: number;
  min: number;
  max: number;
}

/** Buckets grow by 1 %: bucket i holds [1.01^i, 1.01^(i+1)) µs. */
const LOG_BASE = Math.log(1.01);
/** 1.01^2048 µs is far beyond any latency a bounded benchmark can see. */
const BUCKETS = 2048;
