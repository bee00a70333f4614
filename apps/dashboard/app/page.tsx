import { apiLinks } from './api-links';

export const dynamic = 'force-dynamic';

export default function HomePage() {
  return (
    <main>
      <h1>Hangar dashboard — coming with the dashboard issue</h1>
      <p>
        Until then, start tasks with <code>./hangar run &quot;a prompt&quot; --follow</code> or the REST API.
      </p>
      <ul>
        {apiLinks(process.env.HANGAR_API_URL).map((link) => (
          <li key={link.href}>
            <a href={link.href}>{link.label}</a> <code>{link.href}</code>
          </li>
        ))}
      </ul>
    </main>
  );
}
