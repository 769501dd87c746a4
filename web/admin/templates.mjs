// /admin/templates (issue #17 "Templates"; node/routes_templates.c): the achievement templates
// (GET /v1/templates) and, for one, an editor of what people change: the achievement's name,
// description, criteria, type and image, the issuer profile the credentials carry (name, url,
// logo; the node keeps its own did:web as the id), and the certificate design (colours, font,
// border as fields, the rest as the layout's JSON). "Preview certificate" asks the node for a
// sample PDF drawn from the UNSAVED edit (POST .../preview.pdf) and links it as a blob URL;
// Save (admins) sends PUT with If-Match: the version read, after a confirmation that the
// change applies to credentials issued from now on; a 412 says someone else saved first.
// An issuer sees the same form read-only, without Preview and Save.
import {$, ApiError, errorText, fill, setState, showError, t, url} from './common.mjs';
import {busy, call, el, formDialog, hasRole, me, needsRole, notice, run, startConsole} from './console.mjs';

// OB 3.0 AchievementType (../shared/ob3 schema), the node's own check (node/template_edit.c).
const TYPES = ['Achievement', 'ApprenticeshipCertificate', 'Assessment', 'Assignment',
  'AssociateDegree', 'Award', 'Badge', 'BachelorDegree', 'Certificate', 'CertificateOfCompletion',
  'Certification', 'CommunityService', 'Competency', 'Course', 'CoCurricular', 'Degree', 'Diploma',
  'DoctoralDegree', 'Fieldwork', 'GeneralEducationDevelopment', 'JourneymanCertificate',
  'LearningProgram', 'License', 'Membership', 'ProfessionalDoctorate', 'QualityAssuranceCredential',
  'MasterCertificate', 'MasterDegree', 'MicroCredential', 'ResearchDoctorate', 'SecondarySchoolDiploma'];
const IMAGE_MAX = 96 * 1024; // bytes of an uploaded image: its data: URI stays under the node's 128 KiB

let current = null; // the GET /v1/templates/{name} answer being edited
let previewUrl = '';
const canEdit = () => hasRole('admin');

const sourceText = (s) => t[`tmplSource.${s}`] || s || '';

// ---- the list -------------------------------------------------------------------------------

async function loadList() {
  const {templates} = await call('GET', '/v1/templates');
  const rows = templates.map((x) => el('tr', {data: {template: x.name}},
    el('th', {scope: 'row', class: 'mono', text: x.name}),
    el('td', {}, el('span', {class: 'what', text: x.achievementName || ''}),
      x.error ? el('span', {class: 'meta warning', text: x.error}) : null),
    el('td', {text: x.achievementType || ''}),
    el('td', {text: sourceText(x.certificateSource), data: {source: x.certificateSource || ''}}),
    el('td', {class: 'mono', text: (x.version || '').slice(0, 12), attrs: {title: x.version || ''}}),
    el('td', {class: 'row-actions'}, el('button', {type: 'button', class: 'secondary',
      text: canEdit() ? t.tmplEdit : t.tmplView, data: {open: x.name},
      attrs: {'aria-label': fill(canEdit() ? t.tmplEditNamed : t.tmplViewNamed, {name: x.name})},
      on: {click: (e) => openTemplate(x.name, e.currentTarget).catch(failed)}}))));
  $('templates').replaceChildren(...(rows.length ? rows
    : [el('tr', {}, el('td', {colSpan: 6, class: 'empty', text: t.tmplNone}))]));
  $('list-card').hidden = false;
}

// ---- the form <-> the template --------------------------------------------------------------

const ach = (tmpl) => tmpl.credentialSubject.achievement;

function showImage(img, id) {
  const src = typeof id === 'string' && id.startsWith('data:image/') ? id : '';
  img.hidden = !src;
  if (src) {
    img.src = src;
  } else {
    img.removeAttribute('src');
  }
}

function fillForm(g) {
  const a = ach(g.template);
  const issuer = g.template.issuer && typeof g.template.issuer === 'object' ? g.template.issuer : {};
  $('edit-title').textContent = fill(t.tmplEditing, {name: g.name});
  $('f-name').value = a.name || '';
  $('f-description').value = a.description || '';
  $('f-criteria').value = a.criteria?.narrative || '';
  const type = a.achievementType || '';
  const options = TYPES.includes(type) || !type ? TYPES : [type, ...TYPES];
  $('f-type').replaceChildren(el('option', {value: '', text: t.tmplTypeNone}),
    ...options.map((x) => el('option', {value: x, text: x, selected: x === type})));
  $('f-image').value = a.image?.id || '';
  showImage($('image-preview'), a.image?.id);
  $('issuer-hint').textContent = fill(t.tmplIssuerHint, {name: g.issuerName || t.none});
  $('f-issuer-name').value = issuer.name || '';
  $('f-issuer-url').value = issuer.url || '';
  $('f-logo').value = issuer.image?.id || '';
  showImage($('logo-preview'), issuer.image?.id);
  const layout = g.certificate || {};
  $('layout-source').textContent = fill(t.tmplLayoutSource, {source: sourceText(g.certificateSource)});
  $('f-background').value = layout.background || '#ffffff';
  $('f-border-color').value = layout.border?.color || '#0a4a8a';
  $('f-border-width').value = layout.border?.width ?? 0;
  $('f-font').value = layout.font || '';
  $('f-layout').value = JSON.stringify(layout, null, 2);
}

class FormError extends Error {}

// An Image from a URL or data: URI field (empty: none), keeping the caption it had.
function imageOf(value, before) {
  const id = value.trim();
  return id ? {...(before || {}), id, type: 'Image'} : undefined;
}

// The edit as the PUT body: the template read, with the form's members set.
function edited() {
  const tmpl = structuredClone(current.template);
  const a = ach(tmpl);
  a.name = $('f-name').value.trim();
  a.description = $('f-description').value.trim();
  a.criteria = {...(a.criteria || {}), narrative: $('f-criteria').value.trim()};
  const type = $('f-type').value;
  if (type) {
    a.achievementType = type;
  } else {
    delete a.achievementType;
  }
  const image = imageOf($('f-image').value, a.image);
  if (image) {
    a.image = image;
  } else {
    delete a.image;
  }
  const issuer = {...(tmpl.issuer && typeof tmpl.issuer === 'object' ? tmpl.issuer : {})};
  for (const [k, id] of [['name', 'f-issuer-name'], ['url', 'f-issuer-url']]) {
    const v = $(id).value.trim();
    if (v) {
      issuer[k] = v;
    } else {
      delete issuer[k];
    }
  }
  const logo = imageOf($('f-logo').value, issuer.image);
  if (logo) {
    issuer.image = logo;
  } else {
    delete issuer.image;
  }
  if (Object.keys(issuer).length) {
    tmpl.issuer = issuer;
  } else {
    delete tmpl.issuer;
  }
  let layout;
  try {
    layout = JSON.parse($('f-layout').value);
  } catch (e) {
    throw new FormError(fill(t.tmplLayoutBad, {detail: e.message}));
  }
  if (!layout || typeof layout !== 'object' || Array.isArray(layout)) {
    throw new FormError(fill(t.tmplLayoutBad, {detail: '{}'}));
  }
  // The fields win over the JSON for what they show.
  layout.background = $('f-background').value;
  layout.border = {...(layout.border || {}), color: $('f-border-color').value,
    width: Number($('f-border-width').value) || 0};
  const font = $('f-font').value.trim();
  if (font) {
    layout.font = font;
  } else {
    delete layout.font;
  }
  return {template: tmpl, certificate: layout};
}

// The JSON textarea follows the fields, so what is saved is what it shows.
function syncLayoutText() {
  try {
    $('f-layout').value = JSON.stringify(edited().certificate, null, 2);
  } catch {
    // a broken JSON stays as typed; Preview and Save say why
  }
}

// An uploaded PNG, JPEG or SVG as a data: URI in the field (and its preview).
function readImage(fileInput, field, preview) {
  const file = fileInput.files[0];
  if (!file) {
    return;
  }
  if (!['image/png', 'image/jpeg', 'image/svg+xml'].includes(file.type) || file.size > IMAGE_MAX) {
    showError(fill(t.tmplImageTooBig, {max: `${IMAGE_MAX / 1024} KiB`}));
    fileInput.value = '';
    return;
  }
  const reader = new FileReader();
  reader.addEventListener('load', () => {
    field.value = reader.result;
    showImage(preview, reader.result);
    showError('');
  });
  reader.readAsDataURL(file);
}

// ---- actions --------------------------------------------------------------------------------

function failed(err) {
  if (err instanceof FormError) {
    showError(err.message);
  } else if (err instanceof ApiError && err.status === 412) {
    showError(t.tmplConflict);
  } else if (err instanceof ApiError && err.status === 400) {
    showError(fill(t.tmplRefused, {detail: err.detail}));
  } else {
    showError(errorText(err));
  }
}

async function openTemplate(name, button) {
  showError('');
  notice('');
  const g = await busy(button, () => call('GET', `/v1/templates/${encodeURIComponent(name)}`));
  if (!g.template) {
    throw new FormError(fill(t.tmplBroken, {detail: g.error || ''}));
  }
  current = g;
  fillForm(g);
  clearPreview();
  $('edit-card').hidden = false;
  $('edit-card').dataset.template = name;
  $('edit-card').dataset.version = g.version;
  $('f-name').focus();
}

function clearPreview() {
  if (previewUrl) {
    URL.revokeObjectURL(previewUrl);
    previewUrl = '';
  }
  $('preview-link').hidden = true;
  $('preview-link').removeAttribute('href');
}

// POST .../preview.pdf with the unsaved edit: the PDF as a blob URL behind a link.
async function preview() {
  showError('');
  const body = edited();
  const r = await fetch(url(`/v1/templates/${encodeURIComponent(current.name)}/preview.pdf`), {
    method: 'POST', credentials: 'same-origin', cache: 'no-store', referrerPolicy: 'strict-origin',
    redirect: 'error', body: JSON.stringify(body),
    headers: {'content-type': 'application/json', accept: 'application/pdf',
      'x-csrf-token': me.csrf}});
  if (!r.ok) {
    let detail = '';
    try {
      detail = (await r.json()).detail || '';
    } catch {
      detail = '';
    }
    throw new ApiError(r.status, detail);
  }
  clearPreview();
  const pdf = await r.blob();
  previewUrl = URL.createObjectURL(pdf);
  const a = $('preview-link');
  a.href = previewUrl;
  a.hidden = false;
  a.dataset.bytes = String(pdf.size);
  notice(t.tmplPreviewReady);
  a.focus();
}

async function save(e) {
  e.preventDefault();
  showError('');
  notice('');
  const body = edited();
  if (!body.template.credentialSubject.achievement.name || !body.template.credentialSubject.achievement.description) {
    throw new FormError(t.tmplNameRequired);
  }
  const ok = await formDialog({title: fill(t.tmplConfirmTitle, {name: current.name}),
    text: t.tmplConfirmText, confirm: t.tmplSave});
  if (!ok) {
    return;
  }
  const g = await busy($('save-button'), () => callIfMatch(body));
  current = g;
  fillForm(g);
  $('edit-card').dataset.version = g.version;
  notice(fill(t.tmplSaved, {name: g.name, version: g.version.slice(0, 12)}));
  await loadList();
}

// PUT with If-Match (api() sends no extra headers, so this one is by hand, with the session's
// CSRF token).
async function callIfMatch(body) {
  let r;
  try {
    r = await fetch(url(`/v1/templates/${encodeURIComponent(current.name)}`), {method: 'PUT',
      credentials: 'same-origin', cache: 'no-store', referrerPolicy: 'strict-origin', redirect: 'error',
      body: JSON.stringify(body), headers: {'content-type': 'application/json', accept: 'application/json',
        'x-csrf-token': me.csrf, 'if-match': `"${current.version}"`}});
  } catch {
    throw new ApiError(0, '');
  }
  const json = await r.json().catch(() => null);
  if (!r.ok) {
    throw new ApiError(r.status, json?.detail || '', json);
  }
  return json;
}

function readOnly() {
  for (const f of $('edit-form').querySelectorAll('input, select, textarea')) {
    f.disabled = true;
  }
  $('save-button').hidden = true;
  $('preview-button').hidden = true;
  $('readonly-note').hidden = false;
}

run(async () => {
  await startConsole();
  if (!hasRole('issuer')) {
    needsRole('issuer', 'list-card', 'edit-card');
    setState('ready');
    return;
  }
  if (!canEdit()) {
    readOnly();
  }
  $('edit-form').addEventListener('submit', (e) => save(e).catch(failed));
  $('preview-button').addEventListener('click', (e) => busy(e.currentTarget, preview).catch(failed));
  $('close-button').addEventListener('click', () => {
    $('edit-card').hidden = true;
    clearPreview();
  });
  for (const id of ['f-background', 'f-border-color', 'f-border-width', 'f-font']) {
    $(id).addEventListener('change', syncLayoutText);
  }
  $('f-image-file').addEventListener('change', () => readImage($('f-image-file'), $('f-image'), $('image-preview')));
  $('f-logo-file').addEventListener('change', () => readImage($('f-logo-file'), $('f-logo'), $('logo-preview')));
  $('f-image').addEventListener('change', () => showImage($('image-preview'), $('f-image').value));
  $('f-logo').addEventListener('change', () => showImage($('logo-preview'), $('f-logo').value));
  await loadList();
});
