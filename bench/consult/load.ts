/**
 * The two loads of bench/consultation-routing.ts, driven from the benchmark process against a
 * Parley in its own process (127.0.0.1 only):
 *
 * - consult: M agents with a /consult console each, set available; N customers arrive at a
 *   fixed rate, each `POST /api/v1/consultations` then a /consult socket with its customer
 *   token. Agents accept every offer after a think time, hold the call (no media, no /voice),
 *   end it with `consultation:end`, optionally write a note, and go `available` again.
 * - baseline: the same N arrivals through seed 001's call API (`POST /api/v1/calls` →
 *   `/connect` → hold → `/end`), no queue and no sockets.
 *
 * Every time is performance.now() of this process, so the customer, the agent and the REST
 * client share one clock. Both loads are bounded by a deadline; whatever is unfinished then
 * is counted as `timeout`.
 */
import { callFrom, createAgent, createEntryPoint, firstAdmin, type Staff } from '../../test/support/consultation.js';
import { request } from '../../test/support/parleyServer.js';
import { ask, openCounting, type CountingSocket } from './sockets.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const now = () => performance.now();

export interface LoadOptions {
  n: number;
  /** Arrivals per second. */
  rate: number;
  /** Agent's think time before accepting an offer, ms. */
  thinkMs: number;
  /** How long the call is held before it is ended, ms (both loads). */
  holdMs: number;
  /** Consult only: the agent writes a note (REST) after each call. */
  notes: boolean;
  /** Absolute deadline (performance.now()) for the whole load. */
  deadline: number;
}

/** Counts by kind; anything here is an error of the run. */
export type ErrorCounts = Record<string, number>;
const bump = (e: ErrorCounts, kind: string) => {
  e[kind] = (e[kind] ?? 0) + 1;
};

/** Calls `start(i)` for i < n at `rate` per second (a self-correcting schedule); returns the worst lateness, ms. */
async function arrivals(n: number, rate: number, deadline: number, start: (i: number) => void): Promise<{ launched: number; maxLagMs: number }> {
  const t0 = now();
  let maxLagMs = 0;
  let launched = 0;
  for (let i = 0; i < n; i++) {
    const due = t0 + (i * 1000) / rate;
    const wait = due - now();
    if (wait > 1) await sleep(wait);
    if (now() >= deadline) break;
    maxLagMs = Math.max(maxLagMs, now() - due);
    start(i);
    launched++;
  }
  return { launched, maxLagMs };
}

/** Waits (polling every 25 ms) until `done()` or the deadline; true when done. */
async function until(done: () => boolean, deadline: number): Promise<boolean> {
  while (!done()) {
    if (now() >= deadline) return false;
    await sleep(25);
  }
  return true;
}

// ---------------------------------------------------------------------------------------------
// Consultations.

/** One consultation as both sides saw it (undefined = did not happen). */
export interface ConsultSample {
  id: string;
  /** Before POST /api/v1/consultations. */
  t0?: number;
  /** 201 received. */
  tPost?: number;
  tFirstStatus?: number;
  /** First consultation:status carrying a position. */
  tPosition?: number;
  firstPosition?: number;
  maxPosition: number;
  /** consultation:offer arrived at an agent. */
  tOffer?: number;
  tAcceptSent?: number;
  tAck?: number;
  /** The customer saw status CONNECTING. */
  tConnecting?: number;
  tEndAck?: number;
  /** The customer saw the end (consultation:ended, or an ENDED/FAILED status). */
  tEnded?: number;
  endStatus?: string;
  endCause?: string;
  /** The agent's cycle (accept, end, note, available) finished without an error. */
  agentDone: boolean;
  /** Events and frame characters the customer's socket received. */
  customerMessages: number;
  customerChars: number;
  statusMessages: number;
  positionMessages: number;
}

export interface ConsultLoadResult {
  samples: ConsultSample[];
  launched: number;
  maxArrivalLagMs: number;
  /** Wall time from the first arrival until every consultation and agent cycle was over (or the deadline). */
  wallMs: number;
  finished: boolean;
  errors: ErrorCounts;
  /** Events / frame characters all agents' consoles received during the load, by event for events. */
  agentMessages: Record<string, number>;
  agentChars: number;
  /** Longest queue an agent's console was shown (queue:update), and the highest position a customer was told. */
  queueMaxSeenByAgents: number;
  maxPositionSeen: number;
  offersWithdrawn: number;
}

interface Agent {
  staff: Staff;
  conn: CountingSocket;
}

/** An admin, M agents with an available console each, and one entry point; `run` drives one load. */
export class ConsultRig {
  private agentMessages: Record<string, number> = {};
  private queueMaxSeen = 0;
  private offersWithdrawn = 0;
  private errors: ErrorCounts = {};
  private readonly byId = new Map<string, ConsultSample>();
  private cyclesInFlight = 0;
  private options: LoadOptions | undefined;

  private constructor(
    private readonly url: string,
    private readonly entryToken: string,
    private readonly agents: Agent[],
  ) {}

  static async open(url: string, agentCount: number): Promise<ConsultRig> {
    const admin = await firstAdmin(url, 'bench-admin@example.com');
    const staff: Staff[] = [];
    // Account creation hashes a password (argon2): a few at a time.
    for (let i = 0; i < agentCount; i += 4) {
      staff.push(...(await Promise.all(Array.from({ length: Math.min(4, agentCount - i) }, (_, k) => createAgent(url, admin, `Bench Agent ${i + k + 1}`)))));
    }
    const ep = await createEntryPoint(url, admin, 'Bench desk', 24);
    const agents: Agent[] = [];
    let rig: ConsultRig | undefined;
    for (const s of staff) {
      const agent = { staff: s } as Agent;
      agent.conn = await openCounting(url, '/consult', s.token, (event, data, at) => rig?.onAgentEvent(agent, event, data, at));
      agents.push(agent);
    }
    rig = new ConsultRig(url, ep.entryToken, agents);
    for (const a of agents) {
      a.conn.socket.on('disconnect', (reason) => {
        if (reason !== 'io client disconnect') bump(rig!.errors, `agent disconnected (${reason})`);
      });
      const r = await ask<{ agent: { state: string } }>(a.conn.socket, 'agent:set-state', { state: 'available' });
      if (r.agent.state !== 'available') throw new Error(`agent ${a.staff.name} is ${r.agent.state}, not available`);
    }
    return rig;
  }

  close(): void {
    for (const a of this.agents) a.conn.socket.close();
  }

  private sample(id: string): ConsultSample {
    let s = this.byId.get(id);
    if (!s) {
      s = { id, maxPosition: 0, agentDone: false, customerMessages: 0, customerChars: 0, statusMessages: 0, positionMessages: 0 };
      this.byId.set(id, s);
    }
    return s;
  }

  private onAgentEvent(agent: Agent, event: string, data: any, at: number): void {
    if (!this.options) return; // setup chatter (own state, empty queue)
    this.agentMessages[event] = (this.agentMessages[event] ?? 0) + 1;
    if (event === 'queue:update') {
      const len = typeof data?.length === 'number' ? data.length : 0;
      if (len > this.queueMaxSeen) this.queueMaxSeen = len;
    } else if (event === 'consultation:offer') {
      const s = this.sample(String(data.consultationId));
      s.tOffer ??= at;
      this.cyclesInFlight++;
      void this.agentCycle(agent, s).finally(() => this.cyclesInFlight--);
    } else if (event === 'consultation:offer-withdrawn') {
      this.offersWithdrawn++;
      bump(this.errors, `offer withdrawn (${String(data?.reason)})`);
    } else if (event === 'error') {
      bump(this.errors, `agent error event (${String(data?.code)})`);
    }
  }

  /** Think, accept, hold, end, (note), available. */
  private async agentCycle(agent: Agent, s: ConsultSample): Promise<void> {
    const o = this.options!;
    const socket = agent.conn.socket;
    let step = 'accept';
    try {
      await sleep(o.thinkMs);
      s.tAcceptSent = now();
      await ask(socket, 'consultation:accept', { consultationId: s.id });
      s.tAck = now();
      await sleep(o.holdMs);
      step = 'end';
      await ask(socket, 'consultation:end', { consultationId: s.id });
      s.tEndAck = now();
      if (o.notes) {
        step = 'note';
        const r = await request(`${this.url}/api/v1/consultations/${s.id}/notes`, { token: agent.staff.token, body: { body: 'Benchmark call: order status explained.', disposition: 'resolved' } });
        if (r.status !== 201) throw new Error(`note: HTTP ${r.status}`);
      }
      step = 'available';
      await ask(socket, 'agent:set-state', { state: 'available' });
      s.agentDone = true;
    } catch (err) {
      const code = (err as { code?: string }).code ?? (err instanceof Error ? err.message.slice(0, 40) : 'error');
      bump(this.errors, `agent ${step} failed (${code})`);
    }
  }

  private async customer(i: number, settled: () => void): Promise<void> {
    const t0 = now();
    let started: Awaited<ReturnType<typeof callFrom>>;
    try {
      started = await callFrom(this.url, this.entryToken, `Customer ${i + 1}`, '01012345678', 'My order has not arrived');
    } catch (err) {
      bump(this.errors, `POST /consultations failed (${err instanceof Error ? err.message.slice(0, 40) : 'error'})`);
      settled();
      return;
    }
    const s = this.sample(started.consultation.id);
    s.t0 = t0;
    s.tPost = now();
    let conn: CountingSocket | undefined;
    let over = false;
    const finish = () => {
      if (over) return;
      over = true;
      if (conn) {
        s.customerMessages = conn.messages;
        s.customerChars = conn.chars;
        conn.socket.close();
      }
      settled();
    };
    const onEvent = (event: string, data: any, at: number) => {
      if (event === 'consultation:status') {
        s.statusMessages++;
        s.tFirstStatus ??= at;
        if (typeof data?.position === 'number') {
          s.positionMessages++;
          s.tPosition ??= at;
          s.firstPosition ??= data.position;
          if (data.position > s.maxPosition) s.maxPosition = data.position;
        }
        if (data?.status === 'CONNECTING') s.tConnecting ??= at;
        if (data?.status === 'ENDED' || data?.status === 'FAILED') {
          s.tEnded ??= at;
          s.endStatus ??= data.status;
          // consultation:ended follows the status of the same transition: wait for it.
        }
      } else if (event === 'consultation:ended') {
        s.tEnded ??= at;
        s.endStatus = data?.status;
        s.endCause = data?.cause;
        // Close once the handler has returned, with both messages counted.
        setImmediate(finish);
      } else if (event === 'error') {
        bump(this.errors, `customer error event (${String(data?.code)})`);
      }
    };
    try {
      conn = await openCounting(this.url, '/consult', started.customerToken, onEvent);
    } catch (err) {
      bump(this.errors, `customer connect failed (${err instanceof Error ? err.message.slice(0, 40) : 'error'})`);
      finish();
      return;
    }
    if (over) {
      // Ended before the connect promise resumed.
      s.customerMessages = conn.messages;
      s.customerChars = conn.chars;
      conn.socket.close();
      return;
    }
    conn.socket.on('disconnect', (reason) => {
      if (reason === 'io client disconnect') return;
      bump(this.errors, `customer disconnected (${reason})`);
      finish();
    });
  }

  /** One load of N customers; returns when every consultation is over (or at the deadline). */
  async run(o: LoadOptions): Promise<ConsultLoadResult> {
    this.options = o;
    this.errors = {};
    this.agentMessages = {};
    this.queueMaxSeen = 0;
    this.offersWithdrawn = 0;
    this.byId.clear();
    for (const a of this.agents) {
      a.conn.messages = 0;
      a.conn.chars = 0;
    }
    let settledCount = 0;
    const settled = () => settledCount++;
    const started = now();
    const { launched, maxLagMs } = await arrivals(o.n, o.rate, o.deadline, (i) => void this.customer(i, settled));
    const finished = await until(() => settledCount >= launched && this.cyclesInFlight === 0, o.deadline);
    const wallMs = now() - started;
    const samples = [...this.byId.values()];
    if (!finished) {
      const open = launched - settledCount;
      if (open > 0) this.errors[`timeout: customer not finished`] = open;
      if (this.cyclesInFlight > 0) this.errors[`timeout: agent cycle not finished`] = this.cyclesInFlight;
    }
    this.options = undefined;
    return {
      samples,
      launched,
      maxArrivalLagMs: maxLagMs,
      wallMs,
      finished,
      errors: { ...this.errors },
      agentMessages: { ...this.agentMessages },
      agentChars: this.agents.reduce((sum, a) => sum + a.conn.chars, 0),
      queueMaxSeenByAgents: this.queueMaxSeen,
      maxPositionSeen: samples.reduce((m, s) => Math.max(m, s.maxPosition), 0),
      offersWithdrawn: this.offersWithdrawn,
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Baseline: seed 001's call API.

export interface BaselineSample {
  t0: number;
  tCreated?: number;
  tConnected?: number;
  tEnded?: number;
}

export interface BaselineLoadResult {
  samples: BaselineSample[];
  launched: number;
  maxArrivalLagMs: number;
  wallMs: number;
  finished: boolean;
  errors: ErrorCounts;
}

export async function runBaseline(url: string, o: LoadOptions): Promise<BaselineLoadResult> {
  const samples: BaselineSample[] = [];
  const errors: ErrorCounts = {};
  let settledCount = 0;
  const call = async (): Promise<void> => {
    const s: BaselineSample = { t0: now() };
    samples.push(s);
    let step = 'POST /calls';
    try {
      const created = await request(`${url}/api/v1/calls`, { body: { callerNumber: '01012345678' } });
      if (created.status !== 201) throw new Error(`HTTP ${created.status}`);
      s.tCreated = now();
      const id = String(created.body.data.call.id);
      step = 'connect';
      const connected = await request(`${url}/api/v1/calls/${id}/connect`, { method: 'POST' });
      if (connected.status !== 200) throw new Error(`HTTP ${connected.status}`);
      s.tConnected = now();
      await sleep(o.holdMs);
      step = 'end';
      const ended = await request(`${url}/api/v1/calls/${id}/end`, { method: 'POST' });
      if (ended.status !== 200 || ended.body.data.call.status !== 'ENDED') throw new Error(`HTTP ${ended.status} ${String(ended.body?.data?.call?.status)}`);
      s.tEnded = now();
    } catch (err) {
      bump(errors, `${step} failed (${err instanceof Error ? err.message.slice(0, 40) : 'error'})`);
    } finally {
      settledCount++;
    }
  };
  const started = now();
  const { launched, maxLagMs } = await arrivals(o.n, o.rate, o.deadline, () => void call());
  const finished = await until(() => settledCount >= launched, o.deadline);
  if (!finished) errors['timeout: call not finished'] = launched - settledCount;
  return { samples, launched, maxArrivalLagMs: maxLagMs, wallMs: now() - started, finished, errors };
}
