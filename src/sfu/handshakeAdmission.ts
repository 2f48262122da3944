/**
 * Admits DTLS handshakes on a media worker at the rate the thread can carry. A handshake is
 * CPU work in JavaScript (ECDHE, ECDSA, the PRF, certificate parsing) on the thread that also
 * forwards every packet and answers every ICE check; a burst of joins run all at once queued
 * seconds of that work in front of the room's packets and consent answers (issue 14: at
 * N ≈ 300 the publisher's ICE failed and the room went silent).
 *
 * At most `concurrent` handshakes run at once, and only one while the thread is behind (its
 * event loop late by more than `lagLimitMs`, measured by a timer). The rest wait. A transport
 * asks for its slot when the client's first ClientHello arrives (not at connect-transport, when
 * the client may still be seconds away from sending one), and the ClientHello that waited is
 * handed to the DTLS server the moment the slot is granted (webRtcTransport.ts), so the
 * handshake starts at once instead of at the client's next retransmission (werift: 0.5, 1,
 * 1.5 s … apart, giving up after ≈ 33 s; a browser for about a minute). A joiner waits rather
 * than fails.
 *
 * A slot is given back when the handshake ends (connected, failed, transport closed) or after
 * `holdMs`, whichever is first, so a slow or silent client cannot hold it.
 */
export interface HandshakeAdmissionOptions {
  /** Handshakes in flight at once while the thread keeps up. */
  concurrent: number;
  /** Longest a handshake keeps its slot, ms. */
  holdMs: number;
  /** Event-loop lateness above which only one handshake runs at a time, ms. */
  lagLimitMs: number;
  /** How often the lateness is sampled, ms. */
  sampleMs?: number;
  /** The clock the lateness is read on (default Date.now). */
  now?: () => number;
}

export type Release = () => void;

export class HandshakeAdmission {
  private running = 0;
  private readonly waiting: Array<(release: Release) => void> = [];
  private lag = 0;
  private sampler: NodeJS.Timeout | undefined;
  /** Handshakes admitted since start. */
  admitted = 0;

  constructor(private readonly options: HandshakeAdmissionOptions) {}

  /** Handshakes waiting for a slot. */
  get queued(): number {
    return this.waiting.length;
  }

  /** Handshakes holding a slot. */
  get inFlight(): number {
    return this.running;
  }

  /** The event loop's last measured lateness, ms. */
  get lagMs(): number {
    return this.lag;
  }

  /**
   * A slot now (synchronously, so the DTLS server listens before connect-transport is
   * answered) or, when none is free, a promise of one. Call the release once done; extra
   * calls do nothing.
   */
  acquire(): Release | Promise<Release> {
    this.sample();
    if (this.waiting.length === 0 && this.running < this.limit()) return this.grant();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private limit(): number {
    return this.lag > this.options.lagLimitMs ? 1 : this.options.concurrent;
  }

  private drain(): void {
    while (this.waiting.length > 0 && this.running < this.limit()) this.waiting.shift()!(this.grant());
  }

  private grant(): Release {
    this.running++;
    this.admitted++;
    let done = false;
    const release = (): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.running--;
      this.drain();
    };
    const timer = setTimeout(release, this.options.holdMs);
    timer.unref();
    return release;
  }

  /** Samples the lateness while anything is in flight or waiting; stops when idle. */
  private sample(): void {
    if (this.sampler) return;
    const every = this.options.sampleMs ?? 20;
    const clock = this.options.now ?? Date.now;
    let expected = clock() + every;
    this.sampler = setInterval(() => {
      const now = clock();
      this.lag = Math.max(0, now - expected);
      expected = now + every;
      this.drain();
      if (this.running === 0 && this.waiting.length === 0) {
        clearInterval(this.sampler);
        this.sampler = undefined;
        this.lag = 0;
      }
    }, every);
    this.sampler.unref();
  }
}
