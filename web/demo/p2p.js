'use strict';
// A 1:1 (or small mesh) call over Parley's seed-002 signaling on the default namespace:
//   video:join-room {studyId?, roomId} → video:room-state {participants}; the newcomer offers
//   to everyone already there; video:offer/answer/ice-candidate travel as {to, …} and arrive
//   as {from, …}; video:toggle-audio/-video announce mute state; video:user-left ends a peer.
(() => {
  const q = new URLSearchParams(location.search);
  const roomId = (q.get('room') || '').trim();
  const userId = (q.get('user') || '').trim();
  const token = q.get('token') || '';
  const studyId = (q.get('study') || '').trim();
  const wantVideo = q.get('video') !== '0';
  const forceRelay = q.get('relay') === '1';

  const $ = (id) => document.getElementById(id);
  const statusEl = $('status');
  const tilesEl = $('tiles');

  const parley = {
    roomId, userId, state: 'idle', socketId: null, socket: null, localStream: null, rtcConfig: null,
    /** socketId → RTCPeerConnection of every remote participant. */
    peers: new Map(),
    /** socketId → {userId, isMuted, isVideoOff} as announced by the server. */
    participants: new Map(),
    /** Every signaling event received: {event, data, t}. */
    log: [],
    errors: [],
  };
  window.parley = parley;

  const setStatus = (text) => { statusEl.textContent = text; };
  const record = (event, data) => {
    parley.log.push({ event, data, t: Date.now() });
    if (parley.log.length > 500) parley.log.splice(0, parley.log.length - 500);
  };

  if (!roomId) {
    const form = $('joinForm');
    form.hidden = false;
    if (userId) form.user.value = userId;
    form.video.checked = wantVideo;
    setStatus('choose a room to start or join a call');
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const next = new URLSearchParams(q);
      next.set('room', form.room.value.trim());
      if (form.user.value.trim()) next.set('user', form.user.value.trim()); else next.delete('user');
      next.set('video', form.video.checked ? '1' : '0');
      location.search = next.toString();
    });
    return;
  }
  $('roomName').textContent = '· ' + roomId;
  document.title = 'Parley · ' + roomId;

  // ---- remote tiles --------------------------------------------------------------------------
  const tileFor = (socketId) => {
    let tile = document.getElementById('peer-' + socketId);
    if (tile) return tile;
    tile = document.createElement('div');
    tile.className = 'tile remote';
    tile.id = 'peer-' + socketId;
    tile.dataset.socketId = socketId;
    const video = document.createElement('video');
    video.autoplay = true;
    video.playsInline = true; // remote audio plays through this element: it must not be muted
    const avatar = document.createElement('div');
    avatar.className = 'avatar';
    avatar.setAttribute('aria-hidden', 'true');
    const label = document.createElement('div');
    label.className = 'label';
    label.innerHTML = '<span class="name"></span><span class="flags"></span>';
    tile.append(video, avatar, label);
    tile.classList.add('audio-only'); // until a video track arrives
    tilesEl.append(tile);
    updateTile(socketId);
    return tile;
  };
  const updateTile = (socketId) => {
    const tile = document.getElementById('peer-' + socketId);
    if (!tile) return;
    const p = parley.participants.get(socketId) || {};
    tile.querySelector('.name').textContent = p.userId || 'guest';
    tile.querySelector('.avatar').textContent = (p.userId || '?').slice(0, 1).toUpperCase();
    const video = tile.querySelector('video');
    const hasVideo = video.srcObject && video.srcObject.getVideoTracks().length > 0;
    tile.classList.toggle('audio-only', !hasVideo || !!p.isVideoOff);
    const flags = [];
    if (p.isMuted) flags.push('muted');
    if (p.isVideoOff) flags.push('camera off');
    const pc = parley.peers.get(socketId);
    if (pc && pc.connectionState !== 'connected') flags.push(pc.connectionState);
    tile.querySelector('.flags').textContent = flags.join(', ');
    tile.dataset.muted = p.isMuted ? 'true' : 'false';
  };
  const playRemote = (video) => {
    const p = video.play();
    if (p && p.catch) p.catch(() => {
      // Autoplay with sound was refused (no user gesture yet): let the user unlock it.
      const btn = $('unlock');
      btn.style.display = 'inline-block';
      btn.onclick = () => {
        btn.style.display = 'none';
        for (const v of tilesEl.querySelectorAll('.remote video')) v.play().catch(() => {});
      };
    });
  };

  // ---- peer connections ----------------------------------------------------------------------
  const pendingIce = new Map(); // socketId → candidates that arrived before the remote description

  const closePeer = (socketId) => {
    const pc = parley.peers.get(socketId);
    if (pc) pc.close();
    parley.peers.delete(socketId);
    pendingIce.delete(socketId);
    parley.participants.delete(socketId);
    const tile = document.getElementById('peer-' + socketId);
    if (tile) tile.remove();
    refreshStatus();
  };

  const createPeer = (socketId) => {
    const existing = parley.peers.get(socketId);
    if (existing) return existing;
    const pc = new RTCPeerConnection(parley.rtcConfig);
    parley.peers.set(socketId, pc);
    tileFor(socketId);
    pc.onicecandidate = (e) => {
      if (e.candidate) parley.socket.emit('video:ice-candidate', { to: socketId, candidate: e.candidate.toJSON() });
    };
    pc.ontrack = (e) => {
      const video = tileFor(socketId).querySelector('video');
      const stream = e.streams[0] || new MediaStream([e.track]);
      if (video.srcObject !== stream) {
        video.srcObject = stream;
        playRemote(video);
      }
      updateTile(socketId);
    };
    pc.onconnectionstatechange = () => {
      updateTile(socketId);
      refreshStatus();
      if (pc.connectionState === 'failed') parley.errors.push({ socketId, error: 'ICE failed' });
    };
    return pc;
  };

  const addLocalTracks = (pc) => {
    const have = new Set(pc.getSenders().map((s) => s.track).filter(Boolean));
    for (const track of parley.localStream.getTracks()) if (!have.has(track)) pc.addTrack(track, parley.localStream);
  };

  const flushIce = async (socketId, pc) => {
    const queued = pendingIce.get(socketId) || [];
    pendingIce.delete(socketId);
    for (const c of queued) await pc.addIceCandidate(c).catch((err) => parley.errors.push({ socketId, error: String(err) }));
  };

  const call = async (socketId) => {
    const pc = createPeer(socketId);
    addLocalTracks(pc);
    await pc.setLocalDescription(await pc.createOffer());
    parley.socket.emit('video:offer', { to: socketId, offer: pc.localDescription.toJSON() });
  };

  const answer = async (socketId, offer) => {
    const pc = createPeer(socketId);
    await pc.setRemoteDescription(offer);
    addLocalTracks(pc);
    await pc.setLocalDescription(await pc.createAnswer());
    parley.socket.emit('video:answer', { to: socketId, answer: pc.localDescription.toJSON() });
    await flushIce(socketId, pc);
  };

  const refreshStatus = () => {
    if (parley.state !== 'joined') return;
    const states = [...parley.peers.values()].map((pc) => pc.connectionState);
    if (states.length === 0) setStatus('waiting for someone to join “' + roomId + '”…');
    else if (states.every((s) => s === 'connected')) setStatus('in call with ' + states.length + (states.length === 1 ? ' person' : ' people'));
    else setStatus('connecting… (' + states.join(', ') + ')');
  };

  const guard = (what, fn) => async (...args) => {
    try { await fn(...args); } catch (err) {
      parley.errors.push({ what, error: String(err && err.message || err) });
      console.error(what, err);
    }
  };

  // ---- start ---------------------------------------------------------------------------------
  const start = async () => {
    setStatus('loading call settings…');
    const res = await fetch('/api/v1/calls/config', { headers: token ? { authorization: 'Bearer ' + token } : {} });
    if (!res.ok) throw new Error('GET /api/v1/calls/config answered HTTP ' + res.status);
    const body = await res.json();
    parley.rtcConfig = Object.assign({}, body.data.config);
    if (forceRelay) parley.rtcConfig.iceTransportPolicy = 'relay';

    setStatus('asking for microphone' + (wantVideo ? ' and camera' : '') + '…');
    parley.localStream = await navigator.mediaDevices.getUserMedia({
      audio: { echoCancellation: true, noiseSuppression: true },
      video: wantVideo ? { width: { ideal: 640 }, height: { ideal: 480 } } : false,
    });
    $('localVideo').srcObject = parley.localStream;
    $('localTile').querySelector('.name').textContent = (userId || 'You') + ' (you)';
    $('localTile').querySelector('.avatar').textContent = (userId || 'You').slice(0, 1).toUpperCase();
    $('localTile').classList.toggle('audio-only', !wantVideo);
    tilesEl.hidden = false;
    $('controls').hidden = false;
    $('cameraBtn').disabled = !wantVideo;

    const auth = {};
    if (userId) auth.userId = userId;
    if (token) auth.token = token;
    const socket = io({ auth });
    parley.socket = socket;
    setStatus('connecting to the server…');

    socket.on('connect', () => {
      // A reconnect gives a new socket id: the old peer connections are useless now.
      for (const id of [...parley.peers.keys()]) closePeer(id);
      parley.socketId = socket.id;
      parley.state = 'joining';
      const join = { roomId };
      if (studyId) join.studyId = studyId;
      socket.emit('video:join-room', join);
    });
    socket.on('connect_error', (err) => {
      record('connect_error', { message: err.message, data: err.data });
      setStatus('cannot reach the server: ' + err.message);
    });
    socket.on('disconnect', (reason) => {
      record('disconnect', { reason });
      for (const id of [...parley.peers.keys()]) closePeer(id);
      if (parley.state === 'left') return;
      parley.state = 'disconnected';
      setStatus(reason === 'io server disconnect' ? 'the server ended the call; reload the page to rejoin' : 'connection lost (' + reason + '), reconnecting…');
    });
    socket.on('server-shutdown', (data) => record('server-shutdown', data));
    socket.on('error', (data) => {
      record('error', data);
      parley.errors.push({ what: 'server', error: data });
      setStatus('server refused ' + (data && data.event) + ': ' + (data && data.message));
    });

    socket.on('video:room-state', guard('room-state', async (data) => {
      record('video:room-state', data);
      parley.state = 'joined';
      refreshStatus();
      for (const p of data.participants || []) {
        parley.participants.set(p.socketId, { userId: p.userId, isMuted: !!p.isMuted, isVideoOff: !!p.isVideoOff });
        await call(p.socketId).catch((err) => parley.errors.push({ socketId: p.socketId, error: String(err) }));
      }
    }));
    socket.on('video:user-joined', (data) => {
      record('video:user-joined', data);
      // The newcomer sends the offer; we wait for it.
      parley.participants.set(data.socketId, { userId: data.userId, isMuted: false, isVideoOff: false });
      tileFor(data.socketId);
      setStatus((data.userId || 'someone') + ' joined, connecting…');
    });
    socket.on('video:user-left', (data) => {
      record('video:user-left', data);
      closePeer(data.socketId);
    });
    socket.on('video:offer', guard('offer', async (data) => {
      record('video:offer', { from: data.from });
      await answer(data.from, data.offer);
    }));
    socket.on('video:answer', guard('answer', async (data) => {
      record('video:answer', { from: data.from });
      const pc = parley.peers.get(data.from);
      if (!pc) return;
      await pc.setRemoteDescription(data.answer);
      await flushIce(data.from, pc);
    }));
    socket.on('video:ice-candidate', guard('ice-candidate', async (data) => {
      if (!data.candidate) return;
      const pc = parley.peers.get(data.from);
      if (pc && pc.remoteDescription) await pc.addIceCandidate(data.candidate);
      else {
        const q2 = pendingIce.get(data.from) || [];
        q2.push(data.candidate);
        pendingIce.set(data.from, q2);
      }
    }));
    socket.on('video:peer-audio-changed', (data) => {
      record('video:peer-audio-changed', data);
      const p = parley.participants.get(data.socketId) || { userId: data.userId };
      p.isMuted = !!data.isMuted;
      parley.participants.set(data.socketId, p);
      updateTile(data.socketId);
    });
    socket.on('video:peer-video-changed', (data) => {
      record('video:peer-video-changed', data);
      const p = parley.participants.get(data.socketId) || { userId: data.userId };
      p.isVideoOff = !!data.isVideoOff;
      parley.participants.set(data.socketId, p);
      updateTile(data.socketId);
    });
  };

  // ---- controls ------------------------------------------------------------------------------
  $('muteBtn').addEventListener('click', () => {
    if (!parley.localStream) return;
    const isMuted = $('muteBtn').getAttribute('aria-pressed') !== 'true';
    for (const t of parley.localStream.getAudioTracks()) t.enabled = !isMuted;
    $('muteBtn').setAttribute('aria-pressed', String(isMuted));
    $('muteBtn').textContent = isMuted ? 'Unmute' : 'Mute';
    $('localTile').querySelector('.flags').textContent = isMuted ? 'muted' : '';
    if (parley.state === 'joined') parley.socket.emit('video:toggle-audio', { roomId, isMuted });
  });
  $('cameraBtn').addEventListener('click', () => {
    if (!parley.localStream) return;
    const isVideoOff = $('cameraBtn').getAttribute('aria-pressed') !== 'true';
    for (const t of parley.localStream.getVideoTracks()) t.enabled = !isVideoOff;
    $('cameraBtn').setAttribute('aria-pressed', String(isVideoOff));
    $('cameraBtn').textContent = isVideoOff ? 'Camera on' : 'Camera off';
    $('localTile').classList.toggle('audio-only', isVideoOff);
    if (parley.state === 'joined') parley.socket.emit('video:toggle-video', { roomId, isVideoOff });
  });
  $('leaveBtn').addEventListener('click', () => {
    if (parley.socket && parley.state === 'joined') parley.socket.emit('video:leave-room', { roomId });
    for (const id of [...parley.peers.keys()]) closePeer(id);
    parley.state = 'left';
    if (parley.socket) parley.socket.disconnect();
    if (parley.localStream) for (const t of parley.localStream.getTracks()) t.stop();
    $('controls').hidden = true;
    setStatus('you left the call');
  });
  window.addEventListener('pagehide', () => { if (parley.socket) parley.socket.disconnect(); });

  start().catch((err) => {
    parley.state = 'failed';
    parley.errors.push({ what: 'start', error: String(err && err.message || err) });
    setStatus('could not start the call: ' + (err && err.message || err));
    console.error(err);
  });
})();
