// The microphone as PCM16 mono at the context's rate, posted every 100 ms (what the live
// endpoint takes: OpenAI Realtime's `input_audio_buffer.append`).
"use strict";
class Pcm16Capture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.size = Math.round(sampleRate / 10);
    this.buffer = new Int16Array(this.size);
    this.filled = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (channel) {
      for (let i = 0; i < channel.length; i++) {
        const s = Math.max(-1, Math.min(1, channel[i]));
        this.buffer[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
        if (this.filled === this.size) {
          this.port.postMessage(this.buffer.buffer, [this.buffer.buffer]);
          this.buffer = new Int16Array(this.size);
          this.filled = 0;
        }
      }
    }
    return true;
  }
}
registerProcessor("pcm16-capture", Pcm16Capture);
