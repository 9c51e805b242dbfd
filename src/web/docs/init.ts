// Starts Redoc on the API reference page (src/web/docs/index.html) with homing's own document.
// Everything it uses comes from this origin: the Redoc bundle loaded just before this script,
// /openapi.json, and the system's fonts (Redoc's default Roboto and Montserrat are only names,
// never fetched, but the stacks below say what is meant). So the docs CSP can name 'self' alone.

interface RedocGlobal {
  init(specUrl: string, options: Record<string, unknown>, element: HTMLElement | null): void;
}

const { Redoc } = globalThis as unknown as { Redoc: RedocGlobal };

const SANS = 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

// The page's only style of its own, set through the CSSOM (no inline style in the shell).
document.body.style.margin = '0';

Redoc.init(
  '/openapi.json',
  {
    // Redoc's search runs in a Worker made from a blob: URL, which the CSP does not allow
    // (worker-src 'none'). The side menu and the browser's own find cover the same ground.
    disableSearch: true,
    // Show the path beside each operation's title, where it stays in view on a phone screen.
    pathInMiddlePanel: true,
    requiredPropsFirst: true,
    // The success answers open at once: a reader looking up an operation wants its result.
    expandResponses: '200,201',
    nativeScrollbars: true,
    theme: {
      typography: {
        fontFamily: SANS,
        headings: { fontFamily: SANS },
        code: { fontFamily: 'ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace' },
      },
    },
  },
  document.getElementById('redoc'),
);

export {};
