/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The repository's own `lint` task runs ESLint; `next build` need not do it again.
  eslint: { ignoreDuringBuilds: true },
  // Browsers ask for /favicon.ico whatever the page links: answer with app/icon.svg, the one
  // icon (a 404 there is a console error in every browser test).
  async rewrites() {
    return [{ source: '/favicon.ico', destination: '/icon.svg' }];
  },
  // Every answer: no content sniffing, and no address of the dashboard (a task's, say) sent to
  // another site a link leads to. The Content-Security-Policy is middleware.ts's, per page.
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'Referrer-Policy', value: 'same-origin' },
        ],
      },
    ];
  },
};

export default nextConfig;
