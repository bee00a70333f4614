import { renderToStaticMarkup } from 'react-dom/server';
import HomePage from '../app/page';

describe('HomePage', () => {
  const original = process.env.HANGAR_API_URL;

  afterEach(() => {
    if (original === undefined) delete process.env.HANGAR_API_URL;
    else process.env.HANGAR_API_URL = original;
  });

  it('should say the dashboard is coming and link the API health of the gateway it is given', () => {
    process.env.HANGAR_API_URL = 'http://127.0.0.1:5005/';
    const html = renderToStaticMarkup(<HomePage />);
    expect(html).toContain('Hangar dashboard — coming with the dashboard issue');
    expect(html).toContain('href="http://127.0.0.1:5005/health/ready"');
  });

  it('should link the default gateway address when none is given', () => {
    delete process.env.HANGAR_API_URL;
    expect(renderToStaticMarkup(<HomePage />)).toContain('href="http://127.0.0.1:4005/health/ready"');
  });
});
