// What injecting one fault did. A fault counts as injected only when it happened: a
// kill needs a live process, a network fault needs connections or traffic to break.
export type Injection = { injected: true; what: string } | { injected: false; reason: string };

export const injected = (what: string): Injection => ({ injected: true, what });
export const notInjected = (reason: string): Injection => ({ injected: false, reason });
