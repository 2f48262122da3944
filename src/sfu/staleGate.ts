/**
 * Drops, before the fan-out, a packet that waited in the media worker's queue too long to be
 * of use to anyone listening live. When the worker thread gets less CPU than forwarding needs
 * (a burst of joins on a loaded machine), packets pile up in the sockets' receive buffers
 * (seconds of audio fit), every packet is forwarded later than the one before, and the ICE
 * consent checks of the same sockets wait behind them until the senders' agents declare ICE
 * failed: the whole room goes silent. A receiver's jitter buffer discards such late audio
 * anyway, so it is cheaper for everyone to skip it: the queue drains at the cost of a decrypt
 * per packet, and STUN answers stay on time.
 *
 * How late a packet is comes from its RTP timestamp: (arrival on our clock − media time) has a
 * floor, the path's own delay; lateness is how far above that floor a packet is. The floor is
 * the minimum over a sliding window (two half-windows), so a sender clock that runs slow by
 * some ppm, or a longer network path, moves it up. A jump in the sender's timestamps (a new
 * source behind the same SSRC) would read as huge lateness: above `resetAfterMs` the floor is
 * taken again from that packet. A sender that paused and resumed without advancing its
 * timestamps reads as late too, but its packets then come at the media rate (a queue being
 * drained comes faster, one growing comes slower): after `steadyPackets` late packets in a
 * row that came at the media rate, the floor is taken again as well.
 */
export interface StaleGateOptions {
  /** RTP clock rate of the stream (48,000 for Opus, 90,000 for video). */
  clockRate: number;
  /** Packets later than this above the floor are not forwarded, ms. */
  maxLateMs?: number;
  /** Lateness above this is a timestamp discontinuity, not queueing: start over, ms. */
  resetAfterMs?: number;
  /** Length of the sliding window the floor is the minimum of, ms. */
  windowMs?: number;
  /** Late packets in a row arriving at the media rate (±25 %) after which the floor is taken again. */
  steadyPackets?: number;
  /** Monotonic clock in ms (default performance.now). */
  now?: () => number;
}

export class StaleGate {
  private readonly msPerTick: number;
  private readonly maxLateMs: number;
  private readonly resetAfterMs: number;
  private readonly halfWindowMs: number;
  private readonly now: () => number;
  private lastTs = 0;
  /** The RTP timestamp unwrapped past 2^32, in ticks. */
  private extendedTs = 0;
  private started = false;
  private floorPrev = Infinity;
  private floorCur = Infinity;
  private halfStartedAt = 0;
  private lastNow = 0;
  private readonly steadyPackets: number;
  private steadyLate = 0;
  /** Packets not forwarded because they were late. */
  dropped = 0;
  /** How late (ms above the floor) the last packet given to `admit` was handled. */
  lastLateMs = 0;

  constructor(options: StaleGateOptions) {
    this.msPerTick = 1000 / options.clockRate;
    this.maxLateMs = options.maxLateMs ?? 300;
    this.resetAfterMs = options.resetAfterMs ?? 10_000;
    this.halfWindowMs = (options.windowMs ?? 10_000) / 2;
    this.now = options.now ?? (() => performance.now());
    this.steadyPackets = options.steadyPackets ?? 10;
  }

  /** Whether the packet with this RTP timestamp, being handled now, is fresh enough to forward. */
  admit(rtpTimestamp: number): boolean {
    const now = this.now();
    let tsGapMs = 0;
    const wallGapMs = now - this.lastNow;
    this.lastNow = now;
    if (!this.started) {
      this.started = true;
      this.lastTs = rtpTimestamp >>> 0;
      this.extendedTs = 0;
      this.halfStartedAt = now;
    } else {
      // Signed 32-bit difference: reordered packets step back, a wrap steps forward.
      const step = ((rtpTimestamp >>> 0) - this.lastTs) | 0;
      this.extendedTs += step;
      this.lastTs = rtpTimestamp >>> 0;
      tsGapMs = step * this.msPerTick;
    }
    if (now - this.halfStartedAt >= this.halfWindowMs) {
      this.floorPrev = this.floorCur;
      this.floorCur = Infinity;
      this.halfStartedAt = now;
    }
    const offset = now - this.extendedTs * this.msPerTick;
    if (offset < this.floorCur) this.floorCur = offset;
    const floor = Math.min(this.floorPrev, this.floorCur);
    const late = offset - floor;
    this.lastLateMs = late;
    if (late <= this.maxLateMs) {
      this.steadyLate = 0;
      return true;
    }
    const atMediaRate = tsGapMs > 0 && Math.abs(wallGapMs - tsGapMs) <= Math.max(5, tsGapMs * 0.25);
    this.steadyLate = atMediaRate ? this.steadyLate + 1 : 0;
    if (late > this.resetAfterMs || this.steadyLate >= this.steadyPackets) {
      this.floorPrev = Infinity;
      this.floorCur = offset;
      this.steadyLate = 0;
      return true;
    }
    this.dropped++;
    return false;
  }
}
