/**
 * One voice recording in a composer: the microphone through MediaRecorder (Opus in WebM on
 * Chromium and Android, in Ogg on Firefox), a live level from an AnalyserNode, then a review
 * (the recording, its length and waveform) before it is sent or thrown away.
 */
import { MAX_VOICE_MS, type VoiceInfo } from '@circlechat/model';
import { peaksOf } from './peaks';

export type RecorderState = 'idle' | 'starting' | 'recording' | 'processing' | 'review';

/** Opus first; the browser picks its own format if it has neither. */
const TYPES = ['audio/webm;codecs=opus', 'audio/ogg;codecs=opus', 'audio/webm', 'audio/mp4'];

/** Why recording cannot start here, before anyone asks the microphone; null if it may. */
export function unsupportedReason(): string | null {
	if (typeof window === 'undefined') return null;
	if (!window.isSecureContext) return 'Recording needs a secure connection (https): this page was opened over plain http.';
	if (!navigator.mediaDevices?.getUserMedia) return 'This browser gives this page no microphone.';
	if (typeof MediaRecorder === 'undefined') return 'This browser cannot record audio.';
	return null;
}

/** What the browser's refusal means for the person holding the button. */
export function explainRefusal(err: unknown): string {
	const name = err instanceof DOMException || err instanceof Error ? err.name : '';
	if (name === 'NotAllowedError' || name === 'SecurityError') {
		return 'Microphone access is blocked for this site. Allow it in the browser’s site settings (the icon left of the address), then try again.';
	}
	if (name === 'NotFoundError' || name === 'OverconstrainedError') return 'No microphone was found. Connect one and try again.';
	if (name === 'NotReadableError' || name === 'AbortError') return 'The microphone is in use by another app, or could not be started.';
	return 'Recording could not start. Check the microphone and try again.';
}

export class VoiceRecorder {
	state = $state<RecorderState>('idle');
	/** Milliseconds recorded so far (while recording), or the recording's length (in review). */
	elapsed = $state(0);
	/** The input level now, 0–1, for the live meter. */
	level = $state(0);
	/** The last refusal or failure, in words; cleared by the next attempt. */
	error = $state<string | null>(null);
	/** The finished recording, for review and upload. */
	blob = $state<Blob | null>(null);
	url = $state<string | null>(null);
	voice = $state<VoiceInfo | null>(null);

	#stream: MediaStream | null = null;
	#recorder: MediaRecorder | null = null;
	#audio: AudioContext | null = null;
	#frame = 0;
	#started = 0;
	#discarded = false;

	get busy(): boolean {
		return this.state !== 'idle';
	}

	/** Asks for the microphone and starts recording; false (with `error` set) if refused. */
	async start(): Promise<boolean> {
		if (this.state !== 'idle') return false;
		this.error = unsupportedReason();
		if (this.error) return false;
		this.state = 'starting';
		this.#discarded = false;
		try {
			this.#stream = await navigator.mediaDevices.getUserMedia({ audio: { echoCancellation: true, noiseSuppression: true } });
		} catch (err) {
			this.error = explainRefusal(err);
			this.state = 'idle';
			return false;
		}
		// Released (or discarded) while the browser was still asking.
		if (this.#discarded) {
			this.#release();
			return false;
		}
		const mimeType = TYPES.find((t) => MediaRecorder.isTypeSupported(t));
		const recorder = new MediaRecorder(this.#stream, mimeType ? { mimeType, audioBitsPerSecond: 32_000 } : undefined);
		const chunks: Blob[] = [];
		recorder.ondataavailable = (e) => e.data.size > 0 && chunks.push(e.data);
		recorder.onstop = () => void this.#finish(new Blob(chunks, { type: recorder.mimeType || mimeType || 'audio/webm' }));
		this.#recorder = recorder;
		this.#meter(this.#stream);
		recorder.start(250);
		this.#started = performance.now();
		this.state = 'recording';
		return true;
	}

	/** Stops recording and moves to review. */
	stop() {
		if (this.state === 'starting') {
			this.discard();
			return;
		}
		if (this.state !== 'recording' || !this.#recorder) return;
		this.state = 'processing';
		this.#recorder.stop();
	}

	/** Throws the recording (or the one in progress) away. */
	discard() {
		this.#discarded = true;
		if (this.#recorder && this.#recorder.state !== 'inactive') this.#recorder.stop();
		this.#release();
		if (this.url) URL.revokeObjectURL(this.url);
		this.blob = this.url = this.voice = null;
		this.elapsed = 0;
		this.level = 0;
		this.state = 'idle';
	}

	#meter(stream: MediaStream) {
		this.#audio = new AudioContext();
		const analyser = this.#audio.createAnalyser();
		analyser.fftSize = 512;
		this.#audio.createMediaStreamSource(stream).connect(analyser);
		const data = new Uint8Array(analyser.fftSize);
		const tick = () => {
			analyser.getByteTimeDomainData(data);
			let sum = 0;
			for (const v of data) sum += ((v - 128) / 128) ** 2;
			// RMS of speech sits around 0.05–0.3: scale it so talking fills most of the meter.
			this.level = Math.min(1, Math.sqrt(sum / data.length) * 4);
			this.elapsed = performance.now() - this.#started;
			if (this.elapsed >= MAX_VOICE_MS) this.stop();
			else this.#frame = requestAnimationFrame(tick);
		};
		this.#frame = requestAnimationFrame(tick);
	}

	#release() {
		cancelAnimationFrame(this.#frame);
		for (const t of this.#stream?.getTracks() ?? []) t.stop();
		void this.#audio?.close().catch(() => {});
		this.#stream = null;
		this.#audio = null;
		this.#recorder = null;
	}

	async #finish(blob: Blob) {
		const wall = performance.now() - this.#started;
		this.#release();
		if (this.#discarded) return;
		// The recording's own length and samples: MediaRecorder's WebM carries no duration, and
		// the wall clock includes the moment the browser took to start.
		let durationMs = Math.round(wall);
		let peaks: number[];
		try {
			const ctx = new AudioContext();
			const decoded = await ctx.decodeAudioData(await blob.arrayBuffer());
			void ctx.close();
			durationMs = Math.round(decoded.duration * 1000) || durationMs;
			peaks = peaksOf(decoded.getChannelData(0));
		} catch {
			peaks = peaksOf(new Float32Array(0));
		}
		if (this.#discarded) return;
		if (durationMs < 300 || blob.size === 0) {
			this.error = 'That was too short to send. Hold the button while you speak, or tap it and tap stop.';
			this.discard();
			return;
		}
		this.blob = blob;
		this.url = URL.createObjectURL(blob);
		this.voice = { durationMs: Math.min(durationMs, MAX_VOICE_MS), peaks };
		this.elapsed = this.voice.durationMs;
		this.state = 'review';
	}
}
