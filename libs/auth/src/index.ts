export * from './authenticator';
export * from './password';
export * from './principal';
export * from './secrets';
