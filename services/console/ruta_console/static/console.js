// Ruta console: the only script. Pages work without it; it adds progress on long forms,
// asks before irreversible actions and updates a job's page in place.
"use strict";
document.addEventListener("submit", (event) => {
  const form = event.target;
  const question = form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    event.preventDefault();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  if (button) {
    // A second click would post twice; the idempotency key covers it, this says why nothing moves.
    setTimeout(() => { button.disabled = true; }, 0);
  }
  const progress = form.getAttribute("data-progress");
  if (progress) {
    const note = document.createElement("p");
    note.className = "progress";
    note.setAttribute("role", "status");
    note.textContent = progress;
    form.appendChild(note);
  }
});

// A running job's page: ask its state every 2 s and update the text; reload once it ended.
const job = document.querySelector("[data-poll]");
if (job) {
  const state = document.getElementById("job-state");
  const bar = document.getElementById("job-progress");
  const poll = async () => {
    try {
      const answer = await fetch(job.getAttribute("data-poll"), { headers: { Accept: "application/json" } });
      if (!answer.ok || answer.redirected) { window.location.reload(); return; }
      const now = await answer.json();
      if (!now.running) { window.location.reload(); return; }
      if (state.textContent !== now.text) { state.textContent = now.text; }
      bar.value = now.done;
      bar.max = now.total;
    } catch (error) {
      // The network dropped: try again at the next beat.
    }
    setTimeout(poll, 2000);
  };
  setTimeout(poll, 2000);
}
