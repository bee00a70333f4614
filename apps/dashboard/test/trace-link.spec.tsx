import { renderToStaticMarkup } from 'react-dom/server';
import { TraceLink, traceUrl } from '../app/components/trace-link';
import { RuntimeConfigProvider } from '../app/lib/runtime-config';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';

function render(template: string, traceId: string | null): string {
  return renderToStaticMarkup(
    <RuntimeConfigProvider config={{ socketUrl: '', traceUrl: template }}>
      <TraceLink traceId={traceId} />
    </RuntimeConfigProvider>,
  );
}

describe(traceUrl.name, () => {
  it('should put the trace id where the template names it', () => {
    expect(traceUrl('http://jaeger:16686/trace/{traceId}', TRACE_ID)).toBe(
      `http://jaeger:16686/trace/${TRACE_ID}`,
    );
    expect(traceUrl('https://grafana.example/explore?traceId={traceId}&x=1', TRACE_ID)).toBe(
      `https://grafana.example/explore?traceId=${TRACE_ID}&x=1`,
    );
  });

  it.each([
    ['no template', ''],
    ['a template without {traceId}', 'http://jaeger:16686/search'],
    ['a script address', 'javascript:alert(1)//{traceId}'],
    ['something that is no address', 'not a url {traceId}'],
  ])('should make no link from %s', (_case, template) => {
    expect(traceUrl(template, TRACE_ID)).toBeNull();
  });
});

describe('TraceLink', () => {
  it('should link the task’s trace when HANGAR_TRACE_URL is set', () => {
    const html = render('http://jaeger:16686/trace/{traceId}', TRACE_ID);
    expect(html).toContain(`href="http://jaeger:16686/trace/${TRACE_ID}"`);
    expect(html).toContain(`<code>${TRACE_ID}</code>`);
  });

  it('should show the trace id alone without a template, and a dash for a task without a trace', () => {
    expect(render('', TRACE_ID)).toBe(`<code data-testid="task-trace">${TRACE_ID}</code>`);
    expect(render('http://jaeger:16686/trace/{traceId}', null)).toBe('—');
  });
});
