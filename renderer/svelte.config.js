// Svelte compiler options, found by Vite (its root is renderer/) and by svelte-check (the
// tsconfig here). Runes mode everywhere: legacy `export let` and stores do not compile.
export default {
  compilerOptions: {
    runes: true,
  },
};
