export * from './address';
export * from './allowed-hosts';
export * from './destination';
export * from './dispatcher';
