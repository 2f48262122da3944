/**
 * The admin call detail's recording: the mixed file in a <video> player when the call had a
 * camera (the mixed MP4 then carries the camera grid), an <audio> player otherwise, a timeline bar with a
 * red mark at each bleep, a download per speaker's track, and `seekRecording` for the transcript
 * beside it (a click on an utterance plays from its time). Camera tracks are listed apart from
 * the voices in the downloads.
 *
 * The files are fetched with the tab's bearer token and played from a blob URL: no token in a
 * URL (logs, history, referrers), no new signed-URL route, and the server's access rules (admin,
 * or the call's agent) apply unchanged. The cost is that the whole file loads before it plays —
 * a consultation's AAC mix is about 1 MB for ten minutes.
 */
import { signal } from '@preact/signals';
import type { JSX, RefObject } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import type { RecordingJson } from '../../../src/http/routes/recordingRoutes.js';
import { api, blobUrl } from '../../lib/api.js';
import { formatClock } from '../../ui/format.js';
import { text } from '../../ui/i18n.js';

type Loaded =
  | { kind: 'loading' }
  | { kind: 'none' }
  | { kind: 'error' }
  | { kind: 'recording'; rec: RecordingJson; url?: string };

/** What a transcript click needs: the player and where the room's media zero falls in the file. */
const player = signal<{ media: HTMLMediaElement; zeroMs: number } | null>(null);

/** Plays the recording from a transcript time (ms after the room's media start); false when no recording plays here. */
export function seekRecording(mediaMs: number): boolean {
  const p = player.value;
  if (!p) return false;
  p.media.currentTime = Math.max(0, (p.zeroMs + mediaMs) / 1000);
  void p.media.play().catch(() => undefined);
  return true;
}

/** The call detail's card: its title and the player (or the sentence saying why there is none). */
export function RecordingCard(props: { roomName: string; token: string }): JSX.Element {
  return (
    <div class="card">
      <h2>{text.value.recording.title}</h2>
      <RecordingPlayer roomName={props.roomName} token={props.token} />
    </div>
  );
}

export function RecordingPlayer(props: { roomName: string; token: string }): JSX.Element {
  const [state, setState] = useState<Loaded>({ kind: 'loading' });
  useEffect(() => {
    let gone = false;
    let url: string | undefined;
    void (async () => {
      try {
        const list = (await api<{ recordings: RecordingJson[] }>('GET', `/recordings?roomName=${encodeURIComponent(props.roomName)}`, { token: props.token })).recordings;
        const rec = [...list].sort((a, b) => b.startedAt - a.startedAt)[0];
        if (!rec) return void (gone || setState({ kind: 'none' }));
        if (rec.status !== 'ready') return void (gone || setState({ kind: 'recording', rec }));
        url = await blobUrl(`/recordings/${encodeURIComponent(rec.name)}`, props.token);
        if (gone) URL.revokeObjectURL(url);
        else setState({ kind: 'recording', rec, url });
      } catch {
        if (!gone) setState({ kind: 'error' });
      }
    })();
    return () => {
      gone = true;
      player.value = null;
      if (url) URL.revokeObjectURL(url);
    };
  }, [props.roomName, props.token]);

  const t = text.value.recording;
  if (state.kind === 'loading') return <p class="muted">…</p>;
  if (state.kind === 'none') return <p class="muted" data-recording="none">{t.none}</p>;
  if (state.kind === 'error') return <p class="inline-error" data-recording="error">{t.loadFailed}</p>;
  const { rec, url } = state;
  if (rec.status === 'failed') return <p class="banner warn" data-recording="failed">{t.failedReason(rec.failure ?? t.failed)}</p>;
  if (!url) return <p class="muted" data-recording={rec.status}>{t.notReady}</p>;
  return <Player rec={rec} url={url} token={props.token} />;
}

function Player(props: { rec: RecordingJson; url: string; token: string }): JSX.Element {
  const { rec } = props;
  const t = text.value.recording;
  const media = useRef<HTMLMediaElement>(null);
  // The mixer puts video in the MP4 exactly when a camera track was recorded.
  const hasVideo = rec.tracks.some((x) => x.kind === 'video');
  const [at, setAt] = useState(0);
  const lengthMs = Math.max(1, rec.durationMs ?? Math.max(...rec.tracks.map((x) => x.offsetMs + x.durationMs), 1));
  // Transcript times are ms after the room's media zero; the file starts at rec.startedAt.
  const roomZero = rec.tracks.find((x) => x.roomStartedAt !== null)?.roomStartedAt ?? rec.startedAt;
  const bleeps = rec.tracks.flatMap((x) => x.bleeps).sort((a, b) => a.startMs - b.startMs);
  useEffect(() => {
    if (media.current) player.value = { media: media.current, zeroMs: roomZero - rec.startedAt };
    return () => {
      player.value = null;
    };
  }, [roomZero, rec.startedAt, hasVideo]);
  const seekTo = (ms: number) => {
    if (media.current) media.current.currentTime = ms / 1000;
  };
  // A speaker with several tracks (they reloaded, or rejoined) gets each one's start beside the name.
  const label = (x: RecordingJson['tracks'][number]): string =>
    rec.tracks.filter((y) => y.kind === x.kind && y.name === x.name).length > 1 ? `${x.name} (${formatClock(x.offsetMs / 1000)})` : x.name;
  const download = (trackId: string, name: string) => {
    void blobUrl(`/recordings/${encodeURIComponent(rec.name)}/tracks/${encodeURIComponent(trackId)}`, props.token).then((href) => {
      const a = document.createElement('a');
      a.href = href;
      a.download = `${rec.name.replace(/\.mp4$/, '')}-${name.replace(/[^\p{L}\p{N}_-]+/gu, '_')}.webm`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(href), 10_000);
    });
  };
  return (
    <div class="recording-player" data-recording="ready" data-name={rec.name}>
      {hasVideo ? (
        <video id="recording-video" class="recording-media" controls playsInline preload="auto" src={props.url} ref={media as RefObject<HTMLVideoElement>} onTimeUpdate={(e) => setAt(e.currentTarget.currentTime * 1000)} />
      ) : (
        <audio id="recording-audio" class="recording-media" controls preload="auto" src={props.url} ref={media as RefObject<HTMLAudioElement>} onTimeUpdate={(e) => setAt(e.currentTarget.currentTime * 1000)} />
      )}
      <div class="rec-timeline" role="group" aria-label={t.title} onClick={(e) => {
        const box = e.currentTarget.getBoundingClientRect();
        seekTo(((e.clientX - box.left) / box.width) * lengthMs);
      }}>
        {bleeps.map((b) => (
          <button
            type="button"
            class="rec-bleep"
            data-start-ms={b.startMs}
            title={t.bleepAt(formatClock(b.startMs / 1000))}
            aria-label={t.bleepAt(formatClock(b.startMs / 1000))}
            style={{ left: `${(100 * b.startMs) / lengthMs}%`, width: `max(4px, ${(100 * (b.endMs - b.startMs)) / lengthMs}%)` }}
            onClick={(e) => {
              e.stopPropagation();
              seekTo(b.startMs);
            }}
          />
        ))}
        <span class="rec-playhead" style={{ left: `${Math.min(100, (100 * at) / lengthMs)}%` }} />
      </div>
      <p class="muted">
        {bleeps.length > 0 ? `${t.bleeps(bleeps.length)} ` : ''}
        {t.seekHint}
      </p>
      <p class="controls">
        <span class="muted">{t.tracks}</span>
        {rec.tracks.filter((x) => x.kind !== 'video').map((x) => (
          <button type="button" class="small rec-track" data-track-id={x.id} data-kind="audio" onClick={() => download(x.id, x.name)}>
            {t.downloadTrack(label(x))}
          </button>
        ))}
      </p>
      {hasVideo ? (
        <p class="controls">
          <span class="muted">{t.cameraTracks}</span>
          {rec.tracks.filter((x) => x.kind === 'video').map((x) => (
            <button type="button" class="small rec-track" data-track-id={x.id} data-kind="video" onClick={() => download(x.id, `${x.name}-camera`)}>
              {t.downloadCamera(label(x))}
            </button>
          ))}
        </p>
      ) : null}
    </div>
  );
}
