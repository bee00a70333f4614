// kubernetes-models, @kubernetes-models/* and two of their dependencies export only `import`
// entry points: resolve those (and their own imports) with the `import` condition.
const ESM_ONLY = /^(kubernetes-models|@kubernetes-models\/|is-cidr|cidr-regex)/;
const IN_ESM_ONLY = /[/\\]node_modules[/\\](kubernetes-models|@kubernetes-models[/\\]|is-cidr|cidr-regex)/;

module.exports = (request, options) => {
  if (ESM_ONLY.test(request) || IN_ESM_ONLY.test(options.basedir)) {
    return options.defaultResolver(request, { ...options, conditions: ['import', 'node', 'default'] });
  }
  return options.defaultResolver(request, options);
};
