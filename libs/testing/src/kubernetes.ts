// `@hangar/testing/kubernetes`: a separate entry, so that only the tests that use the fake
// Kubernetes API load @kubernetes/client-node (ES modules only).
export * from './fake-kube-api';
