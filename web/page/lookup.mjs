// The lookup form (SPEC §8 POST /v1/credentials/lookup): issue number + recipient email ->
// the credential's page. The node answers the same 404 for an unknown number and a wrong
// email, and 429 when a client asks too often.
const {strings: t, config} = JSON.parse(document.getElementById('page-data').textContent);
const form = document.getElementById('lookup-form');
const out = document.getElementById('lookup-result');

form.addEventListener('submit', async (e) => {
  e.preventDefault();
  out.textContent = '';
  const body = JSON.stringify({issueNumber: form.issueNumber.value.trim(), email: form.email.value.trim()});
  try {
    const r = await fetch(`${config.base}/v1/credentials/lookup`, {method: 'POST', body,
      headers: {'content-type': 'application/json'}, credentials: 'omit', referrerPolicy: 'no-referrer'});
    if (r.ok) {
      const {page} = await r.json();
      if (new URL(page).origin === location.origin) {
        location.assign(page);
        return;
      }
    }
    out.textContent = r.status === 429 ? t.lookupTooMany : r.status === 404 || r.status === 400
      ? t.lookupNotFound : t.lookupError;
  } catch {
    out.textContent = t.lookupError;
  }
});
