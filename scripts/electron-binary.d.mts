/** The Electron executable's path, or undefined when this install has none. */
export function electronBinary(): string | undefined;
