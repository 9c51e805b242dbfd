import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  arrowHead,
  bearingDegrees,
  compassName,
  destination,
  distanceMetres,
  metresPerPixel,
  stepText,
  trailSteps,
} from '../../src/web/map-trail.js';

// The trail's maths in Node: distances, bearings and their words, and the arrowheads the map
// draws along the trail.

const METRES_PER_DEGREE = (Math.PI * 6_371_008.8) / 180;

describe('trail maths', () => {
  it('measures distances along meridians and the equator', () => {
    expect(distanceMetres({ lat: 0, lon: 0 }, { lat: 1, lon: 0 })).toBeCloseTo(METRES_PER_DEGREE, 3);
    expect(distanceMetres({ lat: 0, lon: 0 }, { lat: 0, lon: 1 })).toBeCloseTo(METRES_PER_DEGREE, 3);
    // A degree of longitude at 60° is half as long.
    expect(distanceMetres({ lat: 60, lon: 0 }, { lat: 60, lon: 0.001 })).toBeCloseTo((METRES_PER_DEGREE * 0.001) / 2, 2);
  });

  it('gives the bearing clockwise from north, across the antimeridian too', () => {
    expect(bearingDegrees({ lat: 0, lon: 0 }, { lat: 1, lon: 0 })).toBeCloseTo(0, 9);
    expect(bearingDegrees({ lat: 0, lon: 0 }, { lat: 0, lon: 1 })).toBeCloseTo(90, 9);
    expect(bearingDegrees({ lat: 0, lon: 0 }, { lat: -1, lon: 0 })).toBeCloseTo(180, 9);
    expect(bearingDegrees({ lat: 0, lon: 0 }, { lat: 0, lon: -1 })).toBeCloseTo(270, 9);
    expect(bearingDegrees({ lat: 0, lon: 0 }, { lat: 0.001, lon: 0.001 })).toBeCloseTo(45, 3);
    // 179.999° E to 179.999° W is a short step east, not a trip round the world westwards.
    expect(bearingDegrees({ lat: -16.5, lon: 179.999 }, { lat: -16.5, lon: -179.999 })).toBeCloseTo(90, 2);
  });

  it('names the nearest of the eight compass directions', () => {
    expect([0, 22, 23, 45, 90, 135, 180, 225, 270, 315, 337, 338, 359.9].map(compassName)).toEqual([
      'north',
      'north',
      'north-east',
      'north-east',
      'east',
      'south-east',
      'south',
      'south-west',
      'west',
      'north-west',
      'north-west',
      'north',
      'north',
    ]);
  });

  it('goes where the bearing and distance say (destination undoes bearing and distance)', () => {
    const point = fc.record({ lat: fc.double({ min: -80, max: 80, noNaN: true }), lon: fc.double({ min: -179.9, max: 179.9, noNaN: true }) });
    fc.assert(
      fc.property(point, fc.double({ min: 0, max: 360, noNaN: true }), fc.double({ min: 10, max: 20_000, noNaN: true }), (from, bearing, distance) => {
        const to = destination(from, bearing, distance);
        expect(distanceMetres(from, to)).toBeCloseTo(distance, 3);
        const back = bearingDegrees(from, to);
        const difference = Math.abs(((back - bearing + 540) % 360) - 180);
        expect(difference).toBeLessThan(1e-6);
      }),
    );
  });

  it('describes each step of a walk: first point, direction and distance, and standing still', () => {
    const start = { lat: 48.2, lon: 11.6, measuredAt: 1000 };
    const north = { ...destination(start, 0, 120), measuredAt: 2000 };
    const east = { ...destination(north, 50, 1500), measuredAt: 3000 };
    const jitter = { ...destination(east, 200, 3), measuredAt: 4000 };
    const steps = trailSteps([start, north, east, jitter]);
    expect(steps.map((step) => step.at)).toEqual([1000, 2000, 3000, 4000]);
    expect(steps.map(stepText)).toEqual(['first point of the trail', 'north, 120 m', 'north-east, 1.5 km', 'about the same place']);
    expect(steps[2]!.from!.bearing).toBeCloseTo(50, 3);
  });

  it('sizes screen pixels in metres at each zoom', () => {
    // Zoom 0 at the equator: the Earth's circumference over 256 pixels.
    expect(metresPerPixel(0, 0)).toBeCloseTo((2 * Math.PI * 6_371_008.8) / 256, 6);
    expect(metresPerPixel(0, 17) * 2).toBeCloseTo(metresPerPixel(0, 16), 9);
    expect(metresPerPixel(60, 10)).toBeCloseTo(metresPerPixel(0, 10) / 2, 9);
  });

  it('points each arrowhead along its segment, at the middle, and never longer than 40 % of a short step', () => {
    const a = { lat: 48.2, lon: 11.6 };
    const b = destination(a, 135, 200);
    const [left, tip, right] = arrowHead(a, b, 20)!;
    const middle = destination(a, 135, 100);
    // The tip lies ahead of the middle along the segment; the two barbs sit behind it, either side.
    expect(bearingDegrees(middle, tip)).toBeCloseTo(135, 3);
    expect(distanceMetres(middle, tip)).toBeCloseTo(10, 3);
    expect(distanceMetres(left, tip)).toBeCloseTo(distanceMetres(right, tip), 3);
    expect(distanceMetres(left, right)).toBeCloseTo(18, 3);
    expect(distanceMetres(a, left)).toBeLessThan(distanceMetres(a, tip));
    // A 30 m step gets a 12 m arrow, not the 50 m asked for.
    const short = arrowHead(a, destination(a, 0, 30), 50)!;
    expect(distanceMetres(short[0], short[1])).toBeGreaterThan(11);
    expect(distanceMetres(destination(a, 0, 15), short[1])).toBeCloseTo(6, 3);
    // GPS jitter gets none.
    expect(arrowHead(a, destination(a, 90, 2), 20)).toBeNull();
  });
});
