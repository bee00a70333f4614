/** @type {import('next').NextConfig} */
const nextConfig = {
  reactStrictMode: true,
  poweredByHeader: false,
  // The repository's own `lint` task runs ESLint; `next build` need not do it again.
  eslint: { ignoreDuringBuilds: true },
};

export default nextConfig;
