// The live connection, shared by the try-on page (app.js) and the kiosk mirror (kiosk.js): the camera, the
// WebRTC offer to the server, the "control" data channel's commands, replies and events, and recording.

const CAMERA_CONSTRAINTS = {
  video: { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 30 } },
  audio: false,
};
const ICE_GATHERING_TIMEOUT_MS = 3000;
const COMMAND_TIMEOUT_MS = 30000;
const DEFAULT_MAX_RECORD_S = 30;
const CLIP_WAIT_S = 30; // how long after max_s we wait for the server's clip event
const RECORD_TICK_MS = 250;

/** An error whose message is already written for the shopper. */
export class ShownError extends Error {}

/** One connection attempt. Its `ready` resolves when the page calls resolveReady (video playing, channel open). */
export function createSession() {
  let resolveReady;
  let rejectReady;
  const ready = new Promise((resolve, reject) => {
    resolveReady = resolve;
    rejectReady = reject;
  });
  ready.catch(() => {}); // failures are shown on the page; whoever awaits `ready` still sees them
  return {
    pc: null,
    channel: null,
    ready,
    resolveReady,
    rejectReady,
    nextId: 1,
    pending: new Map(), // command id -> {command, resolve, reject, timer}
    offeredKey: '', // the worn set sent with the offer
    videoPlaying: false,
    live: false,
    closed: false,
    rtt: null,
    intervals: [],
  };
}

export function channelOpen(session) {
  return session.channel?.readyState === 'open';
}

/** Sends a command; resolves with the reply, rejects with the server's message when ok is false. */
export function sendCommand(session, command) {
  if (!channelOpen(session)) return Promise.reject(new Error('Not connected yet – please wait a moment.'));
  const id = session.nextId++;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      session.pending.delete(id);
      reject(new Error(`The server did not answer (${command.cmd}).`));
    }, COMMAND_TIMEOUT_MS);
    session.pending.set(id, { command, resolve, reject, timer });
    session.channel.send(JSON.stringify({ ...command, id }));
  });
}

/**
 * A message from the channel: an event goes to onEvent(message); a reply settles its command, after
 * onReply(command, reply) has seen it (whoever sent the command).
 */
function receive(session, event, { onEvent, onReply = () => {} }) {
  let message;
  try {
    message = JSON.parse(event.data);
  } catch {
    return; // not ours to interpret
  }
  if (message.event) {
    onEvent(message);
    return;
  }
  const entry = session.pending.get(message.id);
  if (!entry) return;
  session.pending.delete(message.id);
  clearTimeout(entry.timer);
  onReply(entry.command, message);
  if (message.ok) entry.resolve(message);
  else entry.reject(new Error(message.error || 'The server could not do that.'));
}

/** Ends the connection: pending commands reject, the channel and the peer connection close. */
export function closeSession(session) {
  session.closed = true;
  session.live = false;
  session.intervals.forEach(clearInterval);
  for (const entry of session.pending.values()) {
    clearTimeout(entry.timer);
    entry.reject(new Error('The connection closed.'));
  }
  session.pending.clear();
  session.channel?.close();
  session.pc?.close();
}

/** The camera's stream; a ShownError saying what to do when there is none. */
async function openCamera(constraints = CAMERA_CONSTRAINTS) {
  if (!navigator.mediaDevices?.getUserMedia) {
    throw new ShownError(window.isSecureContext
      ? "This browser can't use the camera. Please open the page in a current Chrome, Firefox or Safari."
      : 'The camera only works on a secure page. Please open this page over https:// (or on localhost).');
  }
  try {
    return await navigator.mediaDevices.getUserMedia(constraints);
  } catch (err) {
    throw new ShownError(cameraErrorMessage(err));
  }
}

/**
 * The camera's stream, opened once and kept across reconnects (`current` while its track is live), shown in
 * `preview` at once; onEnded() when it stops (unplugged, taken by another app).
 */
export async function keepCamera(current, preview, onEnded) {
  if (current?.getVideoTracks().some((track) => track.readyState === 'live')) return current;
  const stream = await openCamera();
  for (const track of stream.getVideoTracks()) track.addEventListener('ended', onEnded);
  preview.srcObject = stream;
  preview.play().catch(() => {});
  return stream;
}

function cameraErrorMessage(err) {
  switch (err.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Camera access is blocked. Allow the camera for this site (the camera icon in the address bar, '
        + "or your browser's site settings), then try again.";
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'No camera was found. Connect a camera, then try again.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera is in use or not working. Close other apps that use it, then try again.';
    default:
      return `The camera could not start (${err.message || err.name}).`;
  }
}

/**
 * Offers the session's peer connection to the server (with `body`: items, kiosk...) and applies its answer.
 * False when the session was closed meanwhile.
 */
async function negotiate(session, body) {
  const { pc } = session;
  await pc.setLocalDescription(await pc.createOffer());
  await waitForIceGathering(pc);
  if (session.closed) return false;
  // The time zone lets watches show the shopper's own time.
  const answer = await postOffer({
    ...body, sdp: pc.localDescription.sdp, type: 'offer', utc_offset_min: -new Date().getTimezoneOffset(),
  });
  if (session.closed) return false;
  await pc.setRemoteDescription({ type: answer.type, sdp: answer.sdp });
  return true;
}

/** Resolves when ICE gathering is complete (the offer then carries every candidate), or after a timeout. */
function waitForIceGathering(pc) {
  if (pc.iceGatheringState === 'complete') return Promise.resolve();
  return new Promise((resolve) => {
    const done = () => {
      clearTimeout(timer);
      pc.removeEventListener('icegatheringstatechange', onChange);
      resolve();
    };
    const onChange = () => {
      if (pc.iceGatheringState === 'complete') done();
    };
    const timer = setTimeout(done, ICE_GATHERING_TIMEOUT_MS);
    pc.addEventListener('icegatheringstatechange', onChange);
  });
}

// A 429 says this device holds its seats already: usually the session of a page just reloaded, which the
// server lets go within seconds. Try again a few times before saying so.
const SEAT_RETRIES = 4;
const SEAT_RETRY_MS = 1500;

async function postOffer(body) {
  let res;
  for (let attempt = 0; ; attempt += 1) {
    try {
      res = await fetch('/api/offer', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
    } catch {
      throw new ShownError('Could not reach the try-on server. Check your connection, then try again.');
    }
    if (res.status !== 429 || attempt >= SEAT_RETRIES) break;
    await new Promise((resolve) => setTimeout(resolve, SEAT_RETRY_MS));
  }
  if (res.status === 503) throw new ShownError('All try-on seats are busy, please try again in a moment');
  if (!res.ok) throw new ShownError(await errorDetail(res));
  return res.json();
}

/** The `detail` of an error response, or a plain description of the status. */
export async function errorDetail(res) {
  try {
    const body = await res.json();
    if (typeof body.detail === 'string') return body.detail;
  } catch {
    // not JSON: fall through
  }
  return `the server answered ${res.status} ${res.statusText}`.trim();
}

/**
 * Connects the camera to the server and offers it with `body` (items, kiosk...): a peer connection carrying the
 * camera's track and the "control" channel. Handlers: onOpen() when the channel opens; onVideo(stream) for the
 * returned video; onEvent(message) and onReply(command, reply) for the channel's messages; onLost(message)
 * when the channel closes or the connection is lost; onConnection(state) on every connection state.
 * False when the session was closed while connecting.
 */
export async function connectLive(session, camera, body, { onOpen, onVideo, onEvent, onReply, onLost, onConnection, graceMs }) {
  const config = await iceConfig();
  if (session.closed) return false;
  const pc = new RTCPeerConnection(config);
  session.pc = pc;
  for (const track of camera.getVideoTracks()) pc.addTrack(track, camera);
  // The channel must exist before the offer so that the offer negotiates it.
  const channel = pc.createDataChannel('control');
  session.channel = channel;
  channel.addEventListener('open', onOpen);
  channel.addEventListener('message', (event) => receive(session, event, { onEvent, onReply }));
  channel.addEventListener('close', () => onLost('closed'));
  pc.addEventListener('track', (event) => {
    if (!session.closed && event.track.kind === 'video') onVideo(event.streams[0] ?? new MediaStream([event.track]));
  });
  watchConnection(pc, { onLost: () => onLost('lost'), onChange: onConnection, graceMs });
  return negotiate(session, body);
}

/**
 * The server's STUN and TURN servers and ICE policy (GET /api/ice), as RTCPeerConnection takes them: a shopper
 * behind a carrier's NAT reaches the server only through a TURN relay.
 */
async function iceConfig() {
  let res;
  try {
    res = await fetch('/api/ice');
  } catch {
    throw new ShownError('Could not reach the try-on server. Check your connection, then try again.');
  }
  if (!res.ok) throw new ShownError(await errorDetail(res));
  const { iceServers, iceTransportPolicy } = await res.json();
  return { iceServers, iceTransportPolicy };
}

/** Plays the returned video in `video`; onPlaying() once it plays (the session is then `videoPlaying`). */
export function playRemote(session, video, stream, onPlaying) {
  video.srcObject = stream;
  video.addEventListener('playing', () => {
    if (session.closed) return;
    session.videoPlaying = true;
    onPlaying();
  }, { once: true });
  video.play().catch(() => {}); // autoplay of muted video is allowed; a rejection only means "not yet"
}

/** Whether the session can go live now: the returned video plays and the channel is open. */
export function readyToGoLive(session) {
  return !session.live && !session.closed && session.videoPlaying && channelOpen(session);
}

/**
 * A recording over the control channel: idle, starting, recording, stopping. The server stops by itself at
 * max_s and then sends a "clip" event, which `finished(clip)` takes as the stop reply does. Handlers:
 * onChange() after every change and every tick while recording; onClip(clip); onError(message).
 */
export class Recorder {
  constructor(send, { onChange, onClip, onError }) {
    Object.assign(this, { send, onChange, onClip, onError });
    this.phase = 'idle';
    this.startedAt = 0;
    this.maxS = DEFAULT_MAX_RECORD_S;
    this.timer = null;
  }

  get active() {
    return this.phase === 'recording' || this.phase === 'stopping';
  }

  get elapsedS() {
    return (performance.now() - this.startedAt) / 1000;
  }

  toggle() {
    if (this.phase === 'idle') this.start();
    else if (this.phase === 'recording') this.stop();
  }

  async start() {
    this.phase = 'starting';
    this.onChange();
    try {
      const reply = await this.send({ cmd: 'record', action: 'start' });
      this.maxS = reply.max_s ?? DEFAULT_MAX_RECORD_S;
      this.startedAt = performance.now();
      this.phase = 'recording';
      this.timer = setInterval(() => this.tick(), RECORD_TICK_MS);
    } catch (err) {
      this.phase = 'idle';
      this.onError(err.message);
    }
    this.onChange();
  }

  async stop() {
    this.phase = 'stopping';
    this.onChange();
    try {
      this.finished(await this.send({ cmd: 'record', action: 'stop' }));
    } catch (err) {
      // The server may have stopped by itself at max_s, and its clip event already finished the recording.
      if (this.phase === 'stopping') {
        this.reset();
        this.onError(err.message);
      }
    }
  }

  /** A finished clip: the stop reply, or the server's own "clip" event at max_s. */
  finished(clip) {
    this.reset();
    if (clip.error) this.onError(clip.error);
    else this.onClip(clip);
  }

  reset() {
    clearInterval(this.timer);
    this.phase = 'idle';
    this.onChange();
  }

  tick() {
    if (this.phase === 'recording' && this.elapsedS >= this.maxS) {
      this.phase = 'stopping'; // the server stops at max_s by itself and sends the clip event
    } else if (this.phase === 'stopping' && this.elapsedS >= this.maxS + CLIP_WAIT_S) {
      this.reset();
      this.onError('The clip did not arrive. Please record again.');
      return;
    }
    this.onChange();
  }
}

/** Calls onLost() when the connection fails, or stays disconnected past a grace period; onChange(state) always. */
function watchConnection(pc, { onLost, onChange = () => {}, graceMs = 5000 }) {
  let graceTimer = null;
  const check = () => {
    const connection = pc.connectionState ?? pc.iceConnectionState; // older Firefox has only the latter
    clearTimeout(graceTimer);
    if (connection === 'failed' || connection === 'closed') {
      onLost();
    } else if (connection === 'disconnected') {
      graceTimer = setTimeout(onLost, graceMs); // ICE may recover from "disconnected" by itself
    }
    onChange(connection);
  };
  pc.addEventListener('connectionstatechange', check);
  pc.addEventListener('iceconnectionstatechange', check);
}
