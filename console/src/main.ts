// The console's shell: a hash router (#/, #/attention, #/dead-letters, #/partitions, #/throughput, #/kinds, #/task/<id>), the key prompt the
// API client calls on a 401, and the scopes of the key, so a read-only key sees no buttons.
import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { forgetKey, onKeyNeeded, whoAmI } from './api.js';
import { DeadLetters } from './dead-letters.js';
import { onLiveState } from './live.js';
import { Kinds } from './kinds.js';
import { Partitions } from './partitions.js';
import { TaskList } from './task-list.js';
import { ThroughputPage } from './throughput.js';
import { TaskView } from './task-view.js';
import './style.css';

function useHash(): string {
  const [hash, setHash] = useState(location.hash);
  useEffect(() => {
    const update = () => setHash(location.hash);
    addEventListener('hashchange', update);
    return () => removeEventListener('hashchange', update);
  }, []);
  return hash;
}

interface Question {
  reason: string;
  answer: (key: string) => void;
}

function KeyPrompt({ question }: { question: Question }) {
  const [value, setValue] = useState('');
  const submit = (event: Event) => {
    event.preventDefault();
    if (value.trim() !== '') question.answer(value.trim());
  };
  return html`<div class="overlay">
    <form class="key-prompt" onSubmit=${submit} aria-label="API key">
      <h2>API key</h2>
      <p>${question.reason} It is kept in this tab only.</p>
      <input type="password" name="apiKey" autocomplete="off" value=${value} onInput=${(e: Event) => setValue((e.target as HTMLInputElement).value)} />
      <button type="submit">Use this key</button>
    </form>
  </div>`;
}

function App() {
  const hash = useHash();
  const [question, setQuestion] = useState<Question | null>(null);
  const [scopes, setScopes] = useState<string[] | null>(null);
  const [keysOn, setKeysOn] = useState(false);
  const [live, setLive] = useState(false);

  useEffect(() => {
    onKeyNeeded(
      (reason) =>
        new Promise<string>((resolve) =>
          setQuestion({
            reason,
            answer: (key) => {
              setQuestion(null);
              resolve(key);
            },
          }),
        ),
    );
    void whoAmI().then(
      (me) => (setScopes(me.scopes), setKeysOn(me.keys)),
      () => setScopes([]),
    );
    return onLiveState(setLive);
  }, []);

  const canOperate = scopes?.includes('operate') ?? false;
  const task = /^#\/task\/([0-9a-fA-F-]{36})$/.exec(hash)?.[1];
  const page =
    task !== undefined
      ? html`<${TaskView} key=${task} id=${task} canOperate=${canOperate} />`
      : hash === '#/partitions'
        ? html`<${Partitions} />`
        : hash === '#/kinds'
        ? html`<${Kinds} />`
        : hash === '#/throughput'
        ? html`<${ThroughputPage} />`
        : hash === '#/dead-letters'
        ? html`<${DeadLetters} />`
        : hash === '#/attention'
        ? html`<${TaskList} key="attention" title="Needs a person: rollback failed" fixed=${{ rollback: 'failed' }} />`
        : html`<${TaskList} key="tasks" title="Tasks" />`;
  return html`
    <header>
      <strong>STACKL</strong>
      <nav>
        <a href="#/" class=${hash === '' || hash === '#/' ? 'here' : ''}>Tasks</a>
        <a href="#/attention" class=${hash === '#/attention' ? 'here' : ''}>Needs a person</a>
        <a href="#/dead-letters" class=${hash === '#/dead-letters' ? 'here' : ''}>Dead letters</a>
        <a href="#/partitions" class=${hash === '#/partitions' ? 'here' : ''}>Partitions</a>
        <a href="#/throughput" class=${hash === '#/throughput' ? 'here' : ''}>Throughput</a>
        <a href="#/kinds" class=${hash === '#/kinds' ? 'here' : ''}>Kinds</a>
      </nav>
      <span class=${`live ${live ? 'on' : 'off'}`} title="live updates">${live ? '● live' : '○ reconnecting'}</span>
      ${scopes !== null && html`<span class="scopes" data-scopes=${scopes.join(',')}>${scopes.join(', ')}</span>`}
      ${keysOn &&
      html`<button class="link" onClick=${() => {
        forgetKey();
        location.reload();
      }}>Forget key</button>`}
    </header>
    <main>${page}</main>
    ${question !== null && html`<${KeyPrompt} question=${question} />`}
  `;
}

const root = document.getElementById('app');
if (root !== null) render(html`<${App} />`, root);
