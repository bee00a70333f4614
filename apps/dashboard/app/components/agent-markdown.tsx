import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';

// Markdown written by an agent (or typed into a chat): it never loads anything by itself. An
// image would be fetched the moment it renders — a beacon to whoever the agent was told to
// report to — so it is shown as a link a person may follow instead.
const components: Components = {
  img: ({ src, alt }) => {
    const label = `image: ${alt || 'untitled'}`;
    return typeof src === 'string' && src !== '' ? (
      <a href={src} className="image-link" rel="noopener noreferrer nofollow" target="_blank">
        [{label}]
      </a>
    ) : (
      <span className="image-link">[{label}]</span>
    );
  },
};

export function AgentMarkdown({ children }: { children: string }) {
  return (
    <ReactMarkdown remarkPlugins={[remarkGfm]} components={components}>
      {children}
    </ReactMarkdown>
  );
}
