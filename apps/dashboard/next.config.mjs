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
};

export default nextConfig;
