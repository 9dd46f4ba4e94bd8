// Vite bundles the stylesheet; to TypeScript a CSS import is just a side effect.
declare module '*.css';
