// The web interface's one script (SPEC §14). It keeps the member token in
// sessionStorage (handed over as /#token=..., never sent in a URL), fetches
// each page's content from /ui/part/<page> and carries out every action
// through the API (/v1/...), always with "Authorization: Bearer <token>".
// Member text is only ever set with textContent, or arrives escaped by the
// server. No cookies; nothing is loaded from any other host.
'use strict';

(() => {
  const KEY = 'connreq.token';
  const body = document.body;
  const page = body.dataset.page;
  const $ = (id) => document.getElementById(id);
  const status = $('status');

  // ------------------------------------------------------------ the token

  if (location.hash.startsWith('#token=')) {
    const handed = decodeURIComponent(location.hash.slice('#token='.length)).trim();
    if (handed) sessionStorage.setItem(KEY, handed);
    history.replaceState(null, '', location.pathname + location.search);
  }
  const token = () => sessionStorage.getItem(KEY);

  /** The token's claims, for what the navigation shows (the server checks the token). */
  function claims(t) {
    try {
      const p = t.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
      return JSON.parse(atob(p + '='.repeat((4 - (p.length % 4)) % 4)));
    } catch (_) {
      return null;
    }
  }

  function say(text, isError) {
    status.textContent = text;
    status.classList.toggle('error', Boolean(isError));
  }

  function key() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    const b = new Uint8Array(16);
    crypto.getRandomValues(b);
    return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  }

  /** A call of the API; refusals become errors carrying the API's message. */
  async function api(method, path, payload) {
    const headers = { Authorization: 'Bearer ' + token() };
    const init = { method, headers, cache: 'no-store', credentials: 'omit' };
    if (payload !== undefined) {
      headers['Content-Type'] = 'application/json';
      headers['Idempotency-Key'] = key();
      init.body = JSON.stringify(payload);
    }
    const r = await fetch(path, init);
    if (!r.ok) {
      let message = 'The server answered ' + r.status + '.';
      try {
        const e = await r.json();
        if (e && e.message) message = e.message;
      } catch (_) {
        /* not JSON */
      }
      const err = new Error(message);
      err.status = r.status;
      throw err;
    }
    return r;
  }

  // ------------------------------------------------------------ the dialog

  const dialog = $('dialog');
  let opener = null;
  // The open question's answer: called once, with null when cancelled.
  let answer = null;

  function settle(value) {
    const a = answer;
    answer = null;
    if (a) a(value);
  }

  /**
   * Asks for a confirmation in the modal dialog: resolves to null when
   * cancelled (button or Escape), else to {message, note, reason}. A cancel
   * answers at once, not when the dialog's close event comes later, so a
   * key pressed right after Escape finds the action already ended.
   */
  function ask({ title, text, confirm, message, note, reason, danger }) {
    settle(null);
    return new Promise((resolve) => {
      answer = resolve;
      opener = document.activeElement;
      $('dialog-title').textContent = title;
      $('dialog-text').textContent = text || '';
      $('dialog-message-field').hidden = !message;
      $('dialog-message').value = '';
      $('dialog-note-field').hidden = !note;
      $('dialog-note').value = '';
      $('dialog-reason-field').hidden = !reason;
      $('dialog-reason').value = 'spam';
      const ok = $('dialog-confirm');
      ok.textContent = confirm;
      ok.classList.toggle('danger', Boolean(danger));
      dialog.returnValue = '';
      dialog.showModal();
      (message ? $('dialog-message') : note ? $('dialog-note') : reason ? $('dialog-reason') : $('dialog-cancel')).focus();
    });
  }

  if (dialog) {
    $('dialog-cancel').addEventListener('click', () => {
      settle(null);
      dialog.close('cancel');
    });
    // Escape: the browser closes the dialog after this event.
    dialog.addEventListener('cancel', () => settle(null));
    dialog.addEventListener('close', () => {
      // The close event of a question already cancelled may come after the next one opened.
      if (dialog.open) return;
      if (opener && opener.isConnected) opener.focus();
      settle(
        dialog.returnValue === 'confirm'
          ? {
              message: $('dialog-message').value.trim() || null,
              note: $('dialog-note').value.trim() || null,
              reason: $('dialog-reason').value,
            }
          : null,
      );
    });
    // Tab and Shift+Tab go round the dialog's controls and never leave it.
    dialog.addEventListener('keydown', (e) => {
      if (e.key !== 'Tab') return;
      const controls = Array.from(dialog.querySelectorAll('textarea, select, button')).filter(
        (c) => !c.closest('[hidden]') && !c.disabled,
      );
      if (controls.length === 0) return;
      const first = controls[0];
      const last = controls[controls.length - 1];
      if (e.shiftKey && document.activeElement === first) {
        e.preventDefault();
        last.focus();
      } else if (!e.shiftKey && document.activeElement === last) {
        e.preventDefault();
        first.focus();
      }
    });
  }

  // ------------------------------------------------------------ the badge

  const badge = $('badge');
  let unread = 0;

  function setUnread(n) {
    unread = Math.max(0, n);
    if (!badge) return;
    badge.textContent = String(unread);
    badge.hidden = unread === 0;
    badge.setAttribute('aria-label', unread + ' unread');
  }

  // ------------------------------------------------------------ the content

  const part = $('part');

  /** Parses server-rendered (escaped) HTML without running anything in it. */
  function parse(html) {
    const t = document.createElement('template');
    t.innerHTML = html;
    return t.content;
  }

  async function load() {
    const r = await api('GET', '/ui/part/' + page);
    const content = parse(await r.text());
    part.replaceChildren(content);
    part.setAttribute('aria-busy', 'false');
    const frame = part.querySelector('.part');
    if (frame) {
      if (frame.dataset.unread !== undefined) setUnread(Number(frame.dataset.unread));
      if (frame.dataset.name) $('who').textContent = frame.dataset.name;
    }
    body.dataset.loaded = 'true';
    return frame;
  }

  async function more(button) {
    const r = await api('GET', '/ui/part/' + page + button.dataset.more);
    const content = parse(await r.text());
    const items = content.querySelector('#items');
    const list = part.querySelector('#items');
    const next = content.querySelector('.more');
    const first = items ? items.firstElementChild : null;
    if (items && list) list.append(...items.children);
    const holder = button.closest('.more');
    if (next) holder.replaceWith(next);
    else holder.remove();
    const focusable = first && first.querySelector('button');
    if (focusable) focusable.focus();
  }

  /** Removes a list item, keeping the keyboard's place on the next one. */
  function drop(item) {
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    const target = next && next.querySelector('button');
    if (target) target.focus();
    else $('main').focus();
  }

  // ------------------------------------------------------------ actions

  const actions = {
    async accept(item, name) {
      await api('POST', '/v1/requests/' + item.dataset.request + '/accept', {});
      drop(item);
      say('You are now connected with ' + name + '.');
    },
    async ignore(item, name) {
      await api('POST', '/v1/requests/' + item.dataset.request + '/ignore', {});
      drop(item);
      say('Ignored the invitation from ' + name + '.');
    },
    async decline(item, name) {
      const a = await ask({
        title: 'Decline the invitation from ' + name + '?',
        text: name + ' will be told. You may add a message.',
        confirm: 'Decline',
        message: true,
      });
      if (!a) return;
      await api('POST', '/v1/requests/' + item.dataset.request + '/decline', { message: a.message });
      drop(item);
      say('Declined the invitation from ' + name + '.');
    },
    async report(item, name) {
      const a = await ask({
        title: 'Report ' + name + '?',
        text: 'Moderators review reports. ' + name + ' is not told who reported them.',
        confirm: 'Report',
        reason: true,
        danger: true,
      });
      if (!a) return;
      const payload = { reported: Number(item.dataset.member), reason: a.reason };
      if (item.dataset.request) payload.request_id = Number(item.dataset.request);
      await api('POST', '/v1/reports', payload);
      if (a.reason === 'dont_know') drop(item);
      say('Reported ' + name + '.');
    },
    async withdraw(item, name) {
      const a = await ask({
        title: 'Withdraw your invitation to ' + name + '?',
        text: 'You may add a message.',
        confirm: 'Withdraw',
        message: true,
        danger: true,
      });
      if (!a) return;
      await api('POST', '/v1/requests/' + item.dataset.request + '/withdraw', { message: a.message });
      drop(item);
      say('Withdrew the invitation to ' + name + '.');
    },
    async remove(item, name) {
      const a = await ask({
        title: 'Remove ' + name + ' from your connections?',
        text: 'No one is told.',
        confirm: 'Remove',
        danger: true,
      });
      if (!a) return;
      await api('DELETE', '/v1/me/connections/' + item.dataset.member, {});
      drop(item);
      say('Removed ' + name + ' from your connections.');
    },
    async block(item, name) {
      const a = await ask({
        title: 'Block ' + name + '?',
        text: 'Neither of you can invite the other, and your connection ends. ' + name + ' is not told.',
        confirm: 'Block',
        danger: true,
      });
      if (!a) return;
      await api('PUT', '/v1/me/blocks/' + item.dataset.member, {});
      drop(item);
      say('Blocked ' + name + '.');
    },
    async read(item) {
      await api('POST', '/v1/me/notifications/read', { ids: [Number(item.dataset.notification)] });
      markRead([item]);
      say('Marked read.');
    },
    async 'read-all'() {
      const items = Array.from(part.querySelectorAll('.notification.unread'));
      if (items.length === 0) return;
      await api('POST', '/v1/me/notifications/read', { ids: items.map((i) => Number(i.dataset.notification)) });
      markRead(items);
      say('Marked ' + items.length + ' read.');
    },
    async clear(item, name) {
      await resolveFlag(item, name, 'clear');
    },
    async restrict(item, name) {
      await resolveFlag(item, name, 'restrict');
    },
    async lift(item, name) {
      const a = await ask({
        title: 'Lift the restriction on ' + name + '?',
        text: name + ' may send invitations again unless a flag is still open.' + decider(),
        confirm: 'Lift restriction',
        note: true,
      });
      if (!a) return;
      await api('POST', '/v1/members/' + item.dataset.member + '/lift-restriction', { note: a.note });
      say('Lifted the restriction on ' + name + '.');
      await refreshDecided();
    },
  };

  /** "You decide as <name>.": a moderator token decides as its own member. */
  function decider() {
    const me = $('who').textContent;
    return me ? ' You decide as ' + me + '; your name and note stay on the record.' : '';
  }

  /** Renders the review page's count and "Recently decided" again, after a decision. */
  async function refreshDecided() {
    const r = await api('GET', '/ui/part/review');
    const content = parse(await r.text());
    const summary = content.querySelector('.summary');
    const shown = part.querySelector('.summary');
    if (summary && shown) shown.replaceWith(summary);
    const fresh = content.querySelector('section[aria-labelledby="decided-heading"]');
    const old = part.querySelector('section[aria-labelledby="decided-heading"]');
    if (old && fresh) old.replaceWith(fresh);
    else if (fresh) part.querySelector('.part').append(fresh);
    else if (old) old.remove();
  }

  async function resolveFlag(item, name, decision) {
    const restrict = decision === 'restrict';
    const a = await ask({
      title: (restrict ? 'Restrict ' : 'Clear the flag on ') + name + '?',
      text:
        (restrict
          ? name + ' will no longer be able to send invitations.'
          : 'The evidence is spent; ' + name + ' returns to good standing unless a moderator restricted them.') +
        decider(),
      confirm: restrict ? 'Restrict' : 'Clear',
      note: true,
      danger: restrict,
    });
    if (!a) return;
    await api('POST', '/v1/flags/' + item.dataset.flag + '/resolve', { decision, note: a.note });
    drop(item);
    say((restrict ? 'Restricted ' : 'Cleared the flag on ') + name + '.');
    await refreshDecided();
  }

  function markRead(items) {
    let n = 0;
    for (const item of items) {
      if (!item.classList.contains('unread')) continue;
      item.classList.remove('unread');
      const b = item.querySelector('button[data-act="read"]');
      if (b) b.remove();
      n += 1;
    }
    setUnread(unread - n);
  }

  // Items with an action under way: a second click waits for the first to end
  // (the button stays focusable, so the keyboard never loses its place).
  const busy = new WeakSet();

  async function act(button) {
    const item = button.closest('[data-request], [data-member], [data-notification], [data-flag]') || part;
    if (busy.has(item)) return;
    busy.add(item);
    try {
      await actions[button.dataset.act](item, item.dataset.name || '');
    } catch (e) {
      say(e.message, true);
    } finally {
      busy.delete(item);
    }
  }

  // ------------------------------------------------------------ settings

  const saved = {
    invitation: 'who may invite you',
    email: 'your email choices',
    frequency: 'how often you get email',
    locale: 'your language',
  };

  async function save(input) {
    const what = input.dataset.setting;
    if (what === 'invitation') await api('PUT', '/v1/me/invitation-setting', { setting: input.value });
    if (what === 'email') await api('PUT', '/v1/me/email-preferences/' + input.value, { enabled: input.checked });
    if (what === 'frequency') await api('PUT', '/v1/me/email-frequency', { frequency: input.value });
    if (what === 'locale') await api('PUT', '/v1/me/locale', { locale: input.value });
    say('Saved ' + saved[what] + '.');
  }

  // ------------------------------------------------------------ live notifications

  /** Adds a notification that arrived on the stream (as text). */
  function arrived(n) {
    if (part.querySelector('[data-notification="' + Number(n.id) + '"]')) return;
    if (!n.read) setUnread(unread + 1);
    const list = page === 'notifications' ? part.querySelector('#items') : null;
    if (!list) return;
    const li = document.createElement('li');
    li.className = 'notification' + (n.read ? '' : ' unread') + ' fresh';
    li.dataset.notification = String(Number(n.id));
    li.dataset.kind = String(n.kind);
    const text = document.createElement('p');
    text.className = 'text';
    text.textContent = n.text;
    const meta = document.createElement('p');
    meta.className = 'meta';
    const time = document.createElement('time');
    time.dateTime = n.created_at;
    time.textContent = String(n.created_at).slice(0, 16).replace('T', ' ') + ' UTC';
    meta.append(time);
    if (!n.read) {
      const b = document.createElement('button');
      b.type = 'button';
      b.dataset.act = 'read';
      b.textContent = 'Mark read';
      meta.append(' ', b);
    }
    li.append(text, meta);
    list.prepend(li);
  }

  /** Follows /v1/me/notifications/stream (SSE read through fetch, so the token goes in a header). */
  async function follow(after) {
    let last = after;
    let wait = 1000;
    for (;;) {
      try {
        const headers = { Authorization: 'Bearer ' + token(), Accept: 'text/event-stream' };
        if (last !== null) headers['Last-Event-ID'] = String(last);
        const r = await fetch('/v1/me/notifications/stream', { headers, cache: 'no-store', credentials: 'omit' });
        if (r.status === 401 || r.status === 403 || r.status === 404) return;
        if (!r.ok || !r.body) throw new Error('stream ' + r.status);
        body.dataset.live = 'on';
        wait = 1000;
        const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n/g, '\n');
          let end;
          while ((end = buffer.indexOf('\n\n')) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let data = '';
            let id = null;
            for (const line of block.split('\n')) {
              if (line.startsWith('data:')) data += line.slice(5).trimStart();
              else if (line.startsWith('id:')) id = line.slice(3).trim();
            }
            if (!data) continue;
            if (id !== null) last = Number(id);
            arrived(JSON.parse(data));
          }
        }
      } catch (_) {
        /* reconnect below */
      }
      body.dataset.live = 'off';
      await new Promise((r) => setTimeout(r, wait));
      wait = Math.min(wait * 2, 30000);
    }
  }

  // ------------------------------------------------------------ the demo's sign-in

  async function demoSignIn(member, moderator) {
    try {
      const r = await fetch('/demo/token', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ member: Number(member), moderator }),
        credentials: 'omit',
      });
      const answer = await r.json();
      if (!r.ok) throw new Error(answer.message || 'The server answered ' + r.status + '.');
      sessionStorage.setItem(KEY, answer.token);
      location.assign(moderator ? '/review' : '/');
    } catch (e) {
      say(e.message, true);
    }
  }

  if (page === 'demo') {
    document.addEventListener('click', (e) => {
      const b = e.target.closest('button[data-demo-member]');
      if (b) demoSignIn(b.dataset.demoMember, b.dataset.demoModerator === 'true');
    });
    $('demo-form').addEventListener('submit', (e) => {
      e.preventDefault();
      demoSignIn($('demo-member').value, $('demo-moderator').checked);
    });
    return;
  }

  // ------------------------------------------------------------ start

  const t = token();
  if (!t) {
    $('signed-out').hidden = false;
    part.setAttribute('aria-busy', 'false');
    body.dataset.loaded = 'true';
    return;
  }
  const c = claims(t);
  const moderator = Boolean(c && c.role === 'moderator');
  body.classList.toggle('is-moderator', moderator);
  $('signout').hidden = false;
  $('signout').addEventListener('click', () => {
    sessionStorage.removeItem(KEY);
    location.assign('/');
  });

  part.addEventListener('click', (e) => {
    const b = e.target.closest('button');
    if (!b || !part.contains(b)) return;
    if (b.dataset.act && actions[b.dataset.act]) act(b);
    else if (b.dataset.more) more(b).catch((err) => say(err.message, true));
  });
  part.addEventListener('change', (e) => {
    const input = e.target.closest('[data-setting]');
    if (input) save(input).catch((err) => say(err.message, true));
  });

  load()
    .then((frame) => {
      if (frame && frame.dataset.member) follow(frame.dataset.durable ? Number(frame.dataset.durable) : null);
    })
    .catch((e) => {
      part.setAttribute('aria-busy', 'false');
      body.dataset.loaded = 'true';
      if (e.status === 401) {
        sessionStorage.removeItem(KEY);
        $('signed-out').hidden = false;
        say('Your sign-in has expired or is not valid.', true);
      } else if (e.status === 403 && body.dataset.moderators) {
        say('This page is for moderators. Sign in with a moderator token to see it.', true);
      } else {
        say(e.message, true);
      }
    });
})();
