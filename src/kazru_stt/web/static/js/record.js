// The Record page: the microphone through an AudioWorklet to the live endpoint
// (/v1/realtime, OpenAI Realtime transcription events), captions as they arrive, and on
// stop a link to the saved transcript. The session cookie signs the socket in.
"use strict";
(() => {
  const { t, said } = window.kazru;
  const RATE = 24000;  // OpenAI's pcm16
  const EARLY_MAX = 300;  // 100 ms chunks: 30 s heard before the socket opened
  const $ = (id) => document.getElementById(id);
  let socket = null, audio = null, mic = null, paused = false, saved = false;

  function status(text) { $("record-status").textContent = text; }

  function toBase64(buffer) {
    const bytes = new Uint8Array(buffer);
    let text = "";
    for (let i = 0; i < bytes.length; i += 0x8000) {
      text += String.fromCharCode.apply(null, bytes.subarray(i, i + 0x8000));
    }
    return btoa(text);
  }

  function caption(item) {
    let line = document.querySelector(`#captions [data-item="${item}"]`);
    if (!line) {
      line = document.createElement("p");
      line.className = "caption partial";
      line.dataset.item = item;
      const badge = document.createElement("span");
      badge.className = "lang";
      const text = document.createElement("span");
      text.className = "caption-text";
      line.append(badge, " ", text);
      $("captions").append(line);
    }
    return line;
  }

  function onEvent(event) {
    if (event.type === "input_audio_buffer.speech_started") {
      caption(event.item_id);
    } else if (event.type === "conversation.item.input_audio_transcription.delta") {
      caption(event.item_id).querySelector(".caption-text").textContent += event.delta;
    } else if (event.type === "conversation.item.input_audio_transcription.completed") {
      const line = caption(event.item_id);
      line.classList.remove("partial");
      line.querySelector(".caption-text").textContent = event.transcript;
      const badge = line.querySelector(".lang");
      badge.textContent = event.language || "";
      badge.title = t(`language_${event.language}`);
      if (!event.transcript) line.remove();
    } else if (event.type === "kazru.session.saved") {
      saved = true;
      $("record-saved-link").href = `/app/t/${event.job_id}`;
      $("record-saved").hidden = false;
      status(t("live_saved"));
    } else if (event.type === "error") {
      status(said(event.error.code, event.error.message));
    }
  }

  async function start() {
    $("record-start").disabled = true;
    $("captions").textContent = "";
    $("record-saved").hidden = true;
    saved = false;
    // The worklet first, then the microphone: nothing it hears waits for a module to load.
    audio = new AudioContext({ sampleRate: RATE });
    await audio.audioWorklet.addModule($("record").dataset.worklet);
    try {
      mic = await navigator.mediaDevices.getUserMedia({
        audio: { channelCount: 1, echoCancellation: true, noiseSuppression: true },
      });
    } catch (e) {
      status(t("live_no_microphone"));
      finish();
      return;
    }
    const node = new AudioWorkletNode(audio, "pcm16-capture");
    const mute = audio.createGain();  // a node is only run when it leads to the output
    mute.gain.value = 0;
    audio.createMediaStreamSource(mic).connect(node).connect(mute).connect(audio.destination);
    // What the microphone hears while the socket still connects is kept and sent once it is
    // open (up to EARLY_MAX chunks): words said right after pressing Record are not lost.
    const early = [];
    const scheme = location.protocol === "https:" ? "wss" : "ws";
    socket = new WebSocket(`${scheme}://${location.host}/v1/realtime?intent=transcription`);
    socket.onopen = () => {
      const language = $("record-language").value || null;
      socket.send(JSON.stringify({
        type: "transcription_session.update",
        session: { input_audio_transcription: { language } },
      }));
      status(t("live_listening"));
      $("record-pause").hidden = false;
      $("record-stop").hidden = false;
      for (const chunk of early.splice(0)) socket.send(chunk);
    };
    socket.onmessage = (message) => onEvent(JSON.parse(message.data));
    socket.onclose = () => {
      finish();
      if (!saved && !$("record-status").textContent) status(t("live_closed"));
    };
    node.port.onmessage = (message) => {
      if (paused || !socket) return;
      const chunk = JSON.stringify({ type: "input_audio_buffer.append", audio: toBase64(message.data) });
      if (socket.readyState === WebSocket.OPEN) socket.send(chunk);
      else if (socket.readyState === WebSocket.CONNECTING && early.length < EARLY_MAX) early.push(chunk);
    };
  }

  function finish() {
    if (mic) mic.getTracks().forEach((track) => track.stop());
    if (audio) audio.close();
    mic = audio = null;
    paused = false;
    $("record-start").disabled = false;
    $("record-pause").hidden = true;
    $("record-stop").hidden = true;
    $("record-pause-note").hidden = true;
    $("record-pause").textContent = t("pause");
  }

  function togglePause() {
    paused = !paused;
    $("record-pause").textContent = paused ? t("resume") : t("pause");
    $("record-pause-note").hidden = !paused;
    status(paused ? t("live_paused") : t("live_listening"));
  }

  function stop() {
    $("record-stop").disabled = true;
    status(t("live_saving"));
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "kazru.session.finish" }));
    }
    if (mic) mic.getTracks().forEach((track) => track.stop());
    $("record-stop").disabled = false;
  }

  document.addEventListener("DOMContentLoaded", () => {
    $("record-start").addEventListener("click", start);
    $("record-pause").addEventListener("click", togglePause);
    $("record-stop").addEventListener("click", stop);
  });
})();
