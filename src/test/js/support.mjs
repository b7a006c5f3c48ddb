// Shared by the library's unit tests: letting queued work run, and moving the mocked clock.
import { mock } from "node:test";
import assert from "node:assert/strict";

/** Lets queued microtasks and socket deliveries run (setImmediate is not mocked). */
export async function settle(rounds = 5) {
  for (let i = 0; i < rounds; i++) await new Promise((resolve) => setImmediate(resolve));
}

/** Attaches the rejection handler at once, so a rejection while the test lets time pass is not "unhandled". */
export function rejection(promise) {
  return promise.then(
    (value) => assert.fail(`expected a rejection, got ${JSON.stringify(value)}`),
    (error) => error,
  );
}

/** Moves the mocked clock in small steps so timers that async code sets while time passes fire on time. */
export async function advance(ms, step = 10) {
  await settle();
  for (let done = 0; done < ms; done += step) {
    mock.timers.tick(Math.min(step, ms - done));
    await settle();
  }
}
