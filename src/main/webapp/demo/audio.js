// WebAudio for the demo phone: generated tones (ring, ringback, DTMF key feedback: no audio files) and
// the level of a MediaStream. Browsers start audio only after a user gesture, so `unlock()` is called
// from click handlers.

// ITU-T Q.23 DTMF: a row and a column frequency per key.
const DTMF_ROWS = { 1: 697, 2: 697, 3: 697, A: 697, 4: 770, 5: 770, 6: 770, B: 770, 7: 852, 8: 852, 9: 852, C: 852, "*": 941, 0: 941, "#": 941, D: 941 };
const DTMF_COLS = { 1: 1209, 4: 1209, 7: 1209, "*": 1209, 2: 1336, 5: 1336, 8: 1336, 0: 1336, 3: 1477, 6: 1477, 9: 1477, "#": 1477, A: 1633, B: 1633, C: 1633, D: 1633 };

export class Sounds {
  #ctx = null;
  #loop = null;

  /** The AudioContext, created and resumed on first use (call from a user gesture). */
  unlock() {
    const AudioContext = globalThis.AudioContext ?? globalThis.webkitAudioContext;
    if (!AudioContext) return null;
    this.#ctx ??= new AudioContext();
    if (this.#ctx.state === "suspended") this.#ctx.resume().catch(() => {});
    return this.#ctx;
  }

  /** Incoming call: a double ring (400+450 Hz, 0.4 s on, 0.2 s off, 0.4 s on, 2 s off). */
  ring() {
    this.#repeat([400, 450], [[0.4, 0.2], [0.4, 2.0]], 0.25);
  }

  /** Outgoing call ringing at the far end: 440+480 Hz, 2 s on, 4 s off. */
  ringback() {
    this.#repeat([440, 480], [[2.0, 4.0]], 0.12);
  }

  stop() {
    this.#loop?.stop();
    this.#loop = null;
  }

  /** A short DTMF tone as feedback for a key press. */
  key(digit) {
    const ctx = this.unlock();
    const freqs = [DTMF_ROWS[digit], DTMF_COLS[digit]];
    if (!ctx || !freqs[0]) return;
    const out = ctx.createGain();
    out.gain.value = 0.1;
    out.connect(ctx.destination);
    this.#burst(ctx, out, freqs, ctx.currentTime, 0.12);
    setTimeout(() => out.disconnect(), 400);
  }

  /** Plays `bursts` ([on, off] seconds) of the summed frequencies again and again until stop(). */
  #repeat(freqs, bursts, gain) {
    this.stop();
    const ctx = this.unlock();
    if (!ctx) return;
    const out = ctx.createGain();
    out.gain.value = gain;
    out.connect(ctx.destination);
    const period = bursts.reduce((sum, [on, off]) => sum + on + off, 0);
    const schedule = () => {
      let t = ctx.currentTime + 0.05;
      for (const [on, off] of bursts) {
        this.#burst(ctx, out, freqs, t, on);
        t += on + off;
      }
    };
    schedule();
    const timer = setInterval(schedule, period * 1000);
    // Disconnecting silences the bursts already scheduled at once.
    this.#loop = { stop: () => { clearInterval(timer); out.disconnect(); } };
  }

  #burst(ctx, out, freqs, start, length) {
    const envelope = ctx.createGain();
    // Short ramps: a tone switched on or off abruptly clicks.
    envelope.gain.setValueAtTime(0, start);
    envelope.gain.linearRampToValueAtTime(1, start + 0.01);
    envelope.gain.setValueAtTime(1, start + length - 0.01);
    envelope.gain.linearRampToValueAtTime(0, start + length);
    envelope.connect(out);
    for (const frequency of freqs) {
      const osc = ctx.createOscillator();
      osc.frequency.value = frequency;
      osc.connect(envelope);
      osc.start(start);
      osc.stop(start + length);
    }
  }
}

/** Reports the level of a stream's audio (0..1, from dBFS -60..0) about 30 times a second. */
export class LevelMeter {
  #source;
  #analyser;
  #frame = null;

  constructor(ctx, stream, onLevel) {
    this.#source = ctx.createMediaStreamSource(stream);
    this.#analyser = ctx.createAnalyser();
    this.#analyser.fftSize = 1024;
    this.#source.connect(this.#analyser); // not to the speakers: the <audio> element plays the call
    const samples = new Float32Array(this.#analyser.fftSize);
    let last = 0;
    const tick = (now) => {
      this.#frame = requestAnimationFrame(tick);
      if (now - last < 33) return;
      last = now;
      this.#analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const s of samples) sum += s * s;
      const rms = Math.sqrt(sum / samples.length);
      const db = rms > 0 ? 20 * Math.log10(rms) : -100;
      onLevel(Math.max(0, Math.min(1, (db + 60) / 60)));
    };
    this.#frame = requestAnimationFrame(tick);
  }

  stop() {
    if (this.#frame !== null) cancelAnimationFrame(this.#frame);
    this.#frame = null;
    this.#source.disconnect();
  }
}
