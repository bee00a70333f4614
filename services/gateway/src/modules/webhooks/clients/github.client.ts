import type { Octokit } from '@octokit/rest';
import type { ProviderRef } from '@hangar/contracts';
import type { ProviderFailure } from './provider-client';

export const GITHUB_REF_KINDS = ['github-issue', 'github-review-comment'] as const;
export type GithubRef = Extract<ProviderRef, { kind: (typeof GITHUB_REF_KINDS)[number] }>;

// The reactions GitHub's API accepts as `content`.
export const GITHUB_REACTIONS = [
  '+1',
  '-1',
  'laugh',
  'confused',
  'heart',
  'hooray',
  'rocket',
  'eyes',
] as const;
export type GithubReaction = (typeof GITHUB_REACTIONS)[number];

// GitHub refuses a comment body longer than this (422 "body is too long").
export const GITHUB_COMMENT_LIMIT = 65_536;

export interface GithubClientSettings {
  token: string;
  // GitHub Enterprise's API base (https://ghe.example.com/api/v3); the public API when absent.
  apiUrl?: string | null | undefined;
  // The guarded fetch every request goes through.
  fetch: typeof globalThis.fetch;
}

// Comments, reactions and labels through GitHub's official REST client.
export class GithubClient {
  private octokit: Promise<Octokit> | undefined;

  constructor(private readonly settings: GithubClientSettings) {}

  async reply(ref: GithubRef, body: string): Promise<void> {
    const octokit = await this.client();
    const { owner, repo } = ref;
    if (ref.kind === 'github-review-comment') {
      // Stays in the review thread instead of landing on the pull request's conversation.
      await octokit.rest.pulls.createReplyForReviewComment({
        owner,
        repo,
        pull_number: ref.pullNumber,
        comment_id: ref.commentId,
        body,
      });
      return;
    }
    await octokit.rest.issues.createComment({ owner, repo, issue_number: ref.issueNumber, body });
  }

  async react(ref: GithubRef, content: GithubReaction): Promise<void> {
    const octokit = await this.client();
    const { owner, repo } = ref;
    if (ref.kind === 'github-review-comment') {
      await octokit.rest.reactions.createForPullRequestReviewComment({
        owner,
        repo,
        comment_id: ref.commentId,
        content,
      });
    } else if (ref.commentId === undefined) {
      await octokit.rest.reactions.createForIssue({ owner, repo, issue_number: ref.issueNumber, content });
    } else {
      await octokit.rest.reactions.createForIssueComment({ owner, repo, comment_id: ref.commentId, content });
    }
  }

  async label(ref: GithubRef, label: string): Promise<void> {
    const octokit = await this.client();
    // A pull request is an issue as far as labels go.
    const issueNumber = ref.kind === 'github-review-comment' ? ref.pullNumber : ref.issueNumber;
    await octokit.rest.issues.addLabels({
      owner: ref.owner,
      repo: ref.repo,
      issue_number: issueNumber,
      labels: [label],
    });
  }

  private client(): Promise<Octokit> {
    this.octokit ??= createOctokit(this.settings);
    return this.octokit;
  }
}

async function createOctokit({ token, apiUrl, fetch }: GithubClientSettings): Promise<Octokit> {
  // @octokit/rest is ESM-only: a top-level import would compile to require() and break Jest, which runs CJS.
  const { Octokit: OctokitClient } = await import('@octokit/rest');
  return new OctokitClient({
    auth: token,
    // octokit appends paths to the base as is: a trailing slash would make //repos/….
    baseUrl: (apiUrl ?? 'https://api.github.com').replace(/\/+$/, ''),
    userAgent: 'hangar',
    // The delivery worker owns retries; the client must not wait on its own.
    request: { retries: 0, fetch },
    // Failures come back as ProviderClientError and are logged by the caller, with context; octokit would also
    // print each one to stderr. Deprecation warnings still get through.
    log: { debug: ignore, info: ignore, warn: console.warn, error: ignore },
  });
}

const ignore = (): void => undefined;

// octokit's RequestError: `status` and GitHub's message; no `response` means the request never got an answer
// (octokit then reports a made-up 500).
export function describeGithubFailure(error: unknown): ProviderFailure {
  if (error instanceof Error && 'status' in error && typeof error.status === 'number') {
    const answered = 'response' in error && error.response !== undefined;
    return { status: answered ? error.status : undefined, detail: error.message };
  }
  return { detail: error instanceof Error ? error.message : String(error) };
}
