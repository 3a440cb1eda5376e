// Waits until the server answers /healthz (cargo-leptos starts the tests without waiting).
export default async function globalSetup() {
  const base = process.env.ARBOR_E2E_BASE_URL ?? "http://127.0.0.1:3000";
  const deadline = Date.now() + 120_000;
  let last = "";
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${base}/healthz`);
      if (r.ok) return;
      last = `status ${r.status}`;
    } catch (e) {
      last = String(e);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error(`server at ${base} did not become healthy: ${last}`);
}
