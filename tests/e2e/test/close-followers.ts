import { closeFollowers } from './support';

// After each test file: no follower outlives it, even one a failed test left waiting.
afterAll(() => closeFollowers());
