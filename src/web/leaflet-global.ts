import leaflet from 'leaflet';

// protomaps-leaflet extends the global `L` (leaflet 1.x style) instead of importing leaflet, so
// the global must exist before its layer is built. map.ts imports this module first: ES modules
// run in import order, and esbuild keeps that order in the bundle.
(globalThis as { L?: typeof leaflet }).L = leaflet;
