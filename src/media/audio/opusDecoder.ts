/**
 * Opus → PCM with `opusscript` (libopus 1.4 in WebAssembly). Chosen over `@discordjs/opus`
 * (native, ~35 % faster per frame) because it needs no native build or install script on any
 * machine, and decoding a speaker costs well under 1 % of a core either way (BENCHMARKS.md).
 */
import { createRequire } from 'node:module';

type OpusScriptCtor = new (rate: 8000 | 12000 | 16000 | 24000 | 48000, channels?: number, application?: number) => {
  decode(packet: Buffer): Buffer;
  encode(pcm: Buffer, frameSize: number): Buffer;
  delete(): void;
};

let OpusScript: OpusScriptCtor | undefined;

function load(): OpusScriptCtor {
  if (OpusScript) return OpusScript;
  try {
    OpusScript = createRequire(import.meta.url)('opusscript') as OpusScriptCtor;
  } catch (err) {
    throw new Error(`the Opus decoder needs the npm package "opusscript" (npm install opusscript): ${(err as Error).message}`);
  }
  return OpusScript;
}

export type OpusRate = 8000 | 12000 | 16000 | 24000 | 48000;

export class OpusDecoder {
  private readonly decoder: InstanceType<OpusScriptCtor>;
  private deleted = false;

  constructor(
    readonly sampleRate: OpusRate = 48000,
    readonly channels: 1 | 2 = 1,
  ) {
    const Ctor = load();
    this.decoder = new Ctor(sampleRate, channels);
  }

  /** One Opus packet → interleaved Int16 PCM (its own buffer). Throws on a corrupt packet. */
  decode(packet: Uint8Array): Int16Array {
    const out = this.decoder.decode(Buffer.from(packet.buffer, packet.byteOffset, packet.byteLength));
    const pcm = new Int16Array(out.byteLength >> 1);
    for (let i = 0; i < pcm.length; i++) pcm[i] = out.readInt16LE(i * 2);
    return pcm;
  }

  close(): void {
    if (this.deleted) return;
    this.deleted = true;
    this.decoder.delete();
  }
}

/** Opus encoder (tests craft RTP with it; the AI agent's paced writer will use it too). */
export class OpusEncoder {
  private readonly encoder: InstanceType<OpusScriptCtor>;

  constructor(
    readonly sampleRate: OpusRate = 48000,
    readonly channels: 1 | 2 = 1,
  ) {
    const Ctor = load();
    this.encoder = new Ctor(sampleRate, channels, 2048 /* VOIP */);
  }

  /** `pcm` is one frame (2.5–60 ms) of interleaved Int16. */
  encode(pcm: Int16Array): Uint8Array {
    const out = this.encoder.encode(Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength), pcm.length / this.channels);
    return new Uint8Array(out);
  }

  close(): void {
    this.encoder.delete();
  }
}
