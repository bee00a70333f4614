export * from './task';
export * from './events';
export * from './messages';
export * from './socket';
export * from './problem';
export * from './errors';
export * from './profile';
export * from './conversation';
