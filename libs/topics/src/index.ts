export {
  TopicConnection,
  type ConnectionNotice,
  type FollowOptions,
  type LiveSocket,
  type Refusal,
  type TopicConnectionOptions,
  type TopicState,
  type TopicSubscription,
} from './topic-connection';
