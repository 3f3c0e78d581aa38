// check.js: the register and profile forms checked as they are typed,
// with the rules and the messages the servers use (store and app server):
// names are 1 to 64 bytes without spaces; first and last name and gender
// are 1 to 64 bytes of printable UTF-8; age is 0 to 150. The server
// checks again; these only say it sooner.

const bytes = (s) => new TextEncoder().encode(s).length;

function printable(s) {
  if (bytes(s) < 1 || bytes(s) > 64 || s.startsWith(' ') || s.endsWith(' ')) return false;
  for (const ch of s) {
    const c = ch.codePointAt(0);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
  }
  return true;
}

const NAME_MSG = 'Invalid argument: a name or text is empty, too long, or holds a NUL byte or a space';
const word = (s) => s.length > 0 && !/\s/.test(s);
const field = (label) => (v) => (printable(v) ? '' : `${label} must be 1 to 64 bytes of printable UTF-8`);
const age = (v) => (/^\d+$/.test(v) && Number(v) <= 150 ? '' : 'Age must be 0 to 150');
// set-profile is a script-mode line: each field must be one word
const oneWord = (check) => (v) => check(v) ||
  (word(v) ? '' : 'Usage: set-profile <user> <first> <last> <age> <gender>');

export const checkers = {
  register: {
    first: field('First name'),
    last: field('Last name'),
    name: (v) => (word(v) && bytes(v) <= 64 ? '' : NAME_MSG),
    password: (v) => (word(v) && bytes(v) <= 1024 ? '' : 'Usage: register <username> <password>'),
    age,
    gender: field('Gender'),
  },
  profile: {
    first: oneWord(field('First name')),
    last: oneWord(field('Last name')),
    age,
    gender: oneWord(field('Gender')),
  },
};

// Shows each field's message (after it was touched, or on submit: all)
// and disables the submit button while any is wrong. Returns validity.
export function validateForm(form, rules, all = false) {
  let ok = true;
  for (const [name, rule] of Object.entries(rules)) {
    const input = form.elements[name];
    const msg = rule(input.value);
    const shown = all || input.dataset.touched === '1';
    const err = document.getElementById(input.getAttribute('aria-describedby'));
    err.textContent = shown ? msg : '';
    input.setAttribute('aria-invalid', shown && msg ? 'true' : 'false');
    if (msg) ok = false;
    if (!input.dataset.wired) {
      input.dataset.wired = '1';
      input.addEventListener('input', () => {
        input.dataset.touched = '1';
        validateForm(form, rules);
      });
    }
  }
  form.querySelector('button[type=submit]').disabled = !ok && !all;
  return ok;
}

export function hhmmss(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((n) => String(n).padStart(2, '0')).join(':');
}
